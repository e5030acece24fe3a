//! Files sent with a mutation: the GraphQL multipart request spec
//! (<https://github.com/jaydenseric/graphql-multipart-request-spec>).
//!
//! The client sends `operations` (the request's JSON), `map` (which variable each file fills)
//! and the files. The router holds the files in memory, within `limits.max_uploads` files of
//! `limits.max_upload_bytes` each, puts a placeholder where each file goes so that the
//! variables coerce as usual (an `Upload` is a custom scalar), and sends each subgraph fetch
//! that uses those variables as a multipart request of its own, the files attached again.
//! Queries may not carry files: they may be shared with identical ones in flight.

use std::sync::Arc;

use apollo_compiler::response::{JsonMap, JsonValue};
use bytes::Bytes;
use http::HeaderMap;

use super::request::{build_request, GraphQLRequest, RawBody};
use super::PipelineError;

/// One uploaded file.
#[derive(Debug)]
pub struct UploadedFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Bytes,
}

/// A file and the variable path it fills (`["input", "file"]` for `variables.input.file`).
#[derive(Debug, Clone)]
pub struct MappedFile {
    pub file: Arc<UploadedFile>,
    pub path: Vec<String>,
}

/// The files of one request, by the variable paths they fill.
#[derive(Debug, Clone, Default)]
pub struct Uploads {
    pub files: Vec<MappedFile>,
}

impl Uploads {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files a subgraph fetch must carry: those filling a variable it uses.
    pub fn for_variables<'a>(
        &'a self,
        used: impl Iterator<Item = &'a str> + Clone,
    ) -> Vec<&'a MappedFile> {
        self.files
            .iter()
            .filter(|mapped| used.clone().any(|name| name == mapped.path[0]))
            .collect()
    }
}

/// Whether the request is a multipart one (the spec's content type).
pub fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers)
        .parse::<mime::Mime>()
        .is_ok_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The limits a multipart request is read within.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// For `operations` and `map`.
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub max_uploads: usize,
}

impl UploadLimits {
    /// The most a whole multipart request may hold (the parts' headers included).
    pub fn max_request_bytes(&self) -> usize {
        self.max_body_bytes
            .saturating_mul(2)
            .saturating_add(self.max_upload_bytes.saturating_mul(self.max_uploads))
            .saturating_add(64 * 1024)
    }
}

/// Reads a multipart request body into the GraphQL request with its files.
pub async fn parse_multipart(
    headers: &HeaderMap,
    body: Bytes,
    limits: UploadLimits,
) -> Result<GraphQLRequest, PipelineError> {
    let bad = |message: String| PipelineError::BadRequest(message);
    let boundary = multer::parse_boundary(content_type(headers))
        .map_err(|e| bad(format!("malformed multipart request: {e}")))?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let read_error = |e: multer::Error| bad(format!("malformed multipart request: {e}"));

    let mut field = multipart.next_field().await.map_err(read_error)?;
    let operations = match field.take() {
        Some(part) if part.name() == Some("operations") => {
            part.bytes().await.map_err(read_error)?
        }
        _ => {
            return Err(bad(
                "a multipart request starts with the \"operations\" part".into(),
            ))
        }
    };
    if operations.len() > limits.max_body_bytes {
        return Err(PipelineError::PayloadTooLarge(limits.max_body_bytes));
    }
    let raw: RawBody = match serde_json::from_slice::<serde_json::Value>(&operations) {
        Ok(serde_json::Value::Array(_)) => {
            return Err(bad("batched multipart requests are not supported".into()))
        }
        Ok(value) => serde_json::from_value(value)
            .map_err(|e| bad(format!("malformed \"operations\" JSON: {e}")))?,
        Err(e) => return Err(bad(format!("malformed \"operations\" JSON: {e}"))),
    };
    let mut request = build_request(raw, false)?;

    let map = match multipart.next_field().await.map_err(read_error)? {
        Some(part) if part.name() == Some("map") => part.bytes().await.map_err(read_error)?,
        _ => {
            return Err(bad(
                "the \"operations\" part is followed by the \"map\" part".into(),
            ))
        }
    };
    let map: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_slice(&map)
        .map_err(|e| {
            bad(format!(
                "malformed \"map\": expected an object of arrays of paths: {e}"
            ))
        })?;
    if map.len() > limits.max_uploads {
        return Err(bad(format!(
            "a request may carry at most {} files",
            limits.max_uploads
        )));
    }
    let mut paths = Vec::with_capacity(map.len());
    for (name, targets) in &map {
        if targets.is_empty() {
            return Err(bad(format!("file {name:?} fills no variable")));
        }
        for target in targets {
            let path = variable_path(target)
                .ok_or_else(|| bad(format!("file {name:?}: {target:?} is not a variable path")))?;
            place_holder(&mut request.variables, &path)
                .map_err(|message| bad(format!("file {name:?}: {message}")))?;
            paths.push((name.clone(), path));
        }
    }

    let mut files: Vec<(String, Arc<UploadedFile>)> = Vec::with_capacity(map.len());
    while let Some(mut part) = multipart.next_field().await.map_err(read_error)? {
        let name = part.name().unwrap_or_default().to_string();
        if !map.contains_key(&name) {
            return Err(bad(format!("file {name:?} is not in the map")));
        }
        if files.iter().any(|(seen, _)| *seen == name) {
            return Err(bad(format!("file {name:?} is sent twice")));
        }
        let filename = part.file_name().unwrap_or("upload").to_string();
        let content_type = part
            .content_type()
            .map(ToString::to_string)
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut bytes = bytes::BytesMut::new();
        while let Some(chunk) = part.chunk().await.map_err(read_error)? {
            if bytes.len() + chunk.len() > limits.max_upload_bytes {
                return Err(PipelineError::UploadTooLarge {
                    file: name,
                    max_bytes: limits.max_upload_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        files.push((
            name,
            Arc::new(UploadedFile {
                filename,
                content_type,
                bytes: bytes.freeze(),
            }),
        ));
    }
    let mut uploads = Uploads::default();
    for (name, path) in paths {
        let file = files
            .iter()
            .find(|(sent, _)| *sent == name)
            .map(|(_, file)| file.clone())
            .ok_or_else(|| bad(format!("file {name:?} is in the map but was not sent")))?;
        uploads.files.push(MappedFile { file, path });
    }
    request.uploads = uploads;
    Ok(request)
}

/// `variables.input.file` -> `["input", "file"]`; list indexes stay digits.
fn variable_path(target: &str) -> Option<Vec<String>> {
    let mut segments = target.split('.');
    if segments.next() != Some("variables") {
        return None;
    }
    let path: Vec<String> = segments.map(str::to_string).collect();
    (!path.is_empty() && path.iter().all(|s| !s.is_empty())).then_some(path)
}

/// The value coercion sees where a file goes: `Upload` is a custom scalar, so any non-null
/// value passes; the subgraph receives `null` there and the file beside it.
const PLACEHOLDER: &str = "<upload>";

/// Puts the placeholder at `path`, where the client's `operations` must hold `null` (or, for
/// a whole variable, nothing).
fn place_holder(variables: &mut JsonMap, path: &[String]) -> Result<(), String> {
    let at = || format!("variables.{}", path.join("."));
    let (first, rest) = path.split_first().expect("paths are not empty");
    if rest.is_empty() && !variables.contains_key(first.as_str()) {
        variables.insert(first.clone(), JsonValue::from(PLACEHOLDER));
        return Ok(());
    }
    let slot = variables
        .get_mut(first.as_str())
        .and_then(|value| at_path(value, rest))
        .ok_or_else(|| format!("{} is not in the operation's variables", at()))?;
    if !slot.is_null() {
        return Err(format!("{} must be null where a file goes", at()));
    }
    *slot = JsonValue::from(PLACEHOLDER);
    Ok(())
}

fn step<'v>(value: &'v mut JsonValue, segment: &str) -> Option<&'v mut JsonValue> {
    match value {
        JsonValue::Object(object) => object.get_mut(segment),
        JsonValue::Array(items) => items.get_mut(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

fn at_path<'v>(value: &'v mut JsonValue, path: &[String]) -> Option<&'v mut JsonValue> {
    match path.split_first() {
        None => Some(value),
        Some((segment, rest)) => at_path(step(value, segment)?, rest),
    }
}

/// The variables a fetch sends with the files it carries: `null` where each file goes.
pub fn with_nulls(variables: &JsonMap, files: &[&MappedFile]) -> JsonMap {
    let mut variables = variables.clone();
    for mapped in files {
        let (first, rest) = mapped.path.split_first().expect("paths are not empty");
        if let Some(slot) = variables
            .get_mut(first.as_str())
            .and_then(|value| at_path(value, rest))
        {
            *slot = JsonValue::Null;
        }
    }
    variables
}

/// A multipart request body for a subgraph: `operations` is the fetch's JSON body, and each
/// file goes back where it came from. Returns the body and its boundary.
pub fn multipart_body(operations: &[u8], files: &[&MappedFile]) -> (Vec<u8>, String) {
    let boundary = format!("shop-router-{}", primitives::id::new_id("part"));
    let size = operations.len()
        + files
            .iter()
            .map(|f| f.file.bytes.len() + 256)
            .sum::<usize>();
    let mut body = Vec::with_capacity(size + 512);
    let part = |body: &mut Vec<u8>, headers: String, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"operations\"\r\nContent-Type: application/json"
            .into(),
        operations,
    );
    let map: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .enumerate()
        .map(|(i, mapped)| {
            let target = format!("variables.{}", mapped.path.join("."));
            (i.to_string(), serde_json::json!([target]))
        })
        .collect();
    let map = serde_json::to_vec(&map).expect("JSON values serialize");
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"map\"\r\nContent-Type: application/json".into(),
        &map,
    );
    for (i, mapped) in files.iter().enumerate() {
        let headers = format!(
            "Content-Disposition: form-data; name=\"{i}\"; filename=\"{}\"\r\nContent-Type: {}",
            header_safe(&mapped.file.filename),
            header_safe(&mapped.file.content_type),
        );
        part(&mut body, headers, &mapped.file.bytes);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, boundary)
}

/// A client's file name or type, made safe inside a part's quoted header.
fn header_safe(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\r' | '\n' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part: its name, its file name (none for a text part) and its content.
    type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

    fn multipart(parts: &[Part]) -> (HeaderMap, Bytes) {
        let mut body = Vec::new();
        for (name, filename, content) in parts {
            body.extend_from_slice(b"--XYZ\r\n");
            match filename {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XYZ--\r\n");
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "multipart/form-data; boundary=XYZ".parse().unwrap(),
        );
        (headers, Bytes::from(body))
    }

    const LIMITS: UploadLimits = UploadLimits {
        max_body_bytes: 4096,
        max_upload_bytes: 16,
        max_uploads: 2,
    };

    const OPERATIONS: &[u8] = br#"{"query":"mutation($input: UploadInput!) { upload(input: $input) }","variables":{"input":{"id":"1","file":null}}}"#;

    #[tokio::test]
    async fn files_fill_their_variables_and_go_back_to_the_subgraph() {
        let (headers, body) = multipart(&[
            ("operations", None, OPERATIONS),
            ("map", None, br#"{"0":["variables.input.file"]}"#),
            ("0", Some("a.png"), b"PNGDATA"),
        ]);
        assert!(is_multipart(&headers));
        let request = parse_multipart(&headers, body, LIMITS).await.unwrap();
        let uploads = &request.uploads;
        assert_eq!(request.variables["input"]["file"], PLACEHOLDER);
        assert_eq!(uploads.files.len(), 1);
        assert_eq!(uploads.files[0].path, ["input", "file"]);
        assert_eq!(&uploads.files[0].file.bytes[..], b"PNGDATA");
        assert_eq!(uploads.for_variables(["input"].into_iter()).len(), 1);
        assert!(uploads.for_variables(["other"].into_iter()).is_empty());

        let files = uploads.for_variables(["input"].into_iter());
        let variables = with_nulls(&request.variables, &files);
        assert!(variables["input"]["file"].is_null());
        assert_eq!(variables["input"]["id"], "1");
        let (sent, boundary) = multipart_body(br#"{"query":"q"}"#, &files);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}")
                .parse()
                .unwrap(),
        );
        let again = multer::Multipart::new(
            futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from(sent)) }),
            boundary,
        );
        let mut again = again;
        let mut names = Vec::new();
        while let Some(field) = again.next_field().await.unwrap() {
            names.push((
                field.name().unwrap().to_string(),
                field.file_name().map(str::to_string),
                field.bytes().await.unwrap(),
            ));
        }
        assert_eq!(names[0].0, "operations");
        assert_eq!(&names[1].2[..], br#"{"0":["variables.input.file"]}"#);
        assert_eq!(
            (names[2].0.as_str(), names[2].1.as_deref()),
            ("0", Some("a.png"))
        );
        assert_eq!(&names[2].2[..], b"PNGDATA");
    }

    #[tokio::test]
    async fn malformed_or_oversized_requests_are_refused() {
        let cases: Vec<(Vec<Part>, &str)> = vec![
            (vec![("map", None, b"{}")], "starts with the \"operations\""),
            (
                vec![("operations", None, b"[1]"), ("map", None, b"{}")],
                "batched",
            ),
            (
                vec![("operations", None, OPERATIONS)],
                "followed by the \"map\"",
            ),
            (
                vec![("operations", None, OPERATIONS), ("map", None, b"[]")],
                "malformed \"map\"",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    ("map", None, br#"{"0":["input.file"]}"#),
                ],
                "is not a variable path",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    ("map", None, br#"{"0":["variables.input.id"]}"#),
                ],
                "must be null",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    ("map", None, br#"{"0":["variables.nothing.file"]}"#),
                ],
                "is not in the operation's variables",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    ("map", None, br#"{"0":["variables.input.file"]}"#),
                ],
                "was not sent",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    ("map", None, br#"{"0":["variables.input.file"]}"#),
                    ("1", Some("b.png"), b"x"),
                ],
                "is not in the map",
            ),
            (
                vec![
                    ("operations", None, OPERATIONS),
                    (
                        "map",
                        None,
                        br#"{"0":["variables.a"],"1":["variables.b"],"2":["variables.c"]}"#,
                    ),
                ],
                "at most 2 files",
            ),
        ];
        for (parts, expected) in cases {
            let (headers, body) = multipart(&parts);
            let error = parse_multipart(&headers, body, LIMITS).await.unwrap_err();
            assert!(
                error.to_string().contains(expected),
                "{expected:?} not in {error}"
            );
        }
        let (headers, body) = multipart(&[
            ("operations", None, OPERATIONS),
            ("map", None, br#"{"0":["variables.input.file"]}"#),
            ("0", Some("big.png"), &[0u8; 17]),
        ]);
        let error = parse_multipart(&headers, body, LIMITS).await.unwrap_err();
        assert_eq!(error.code(), "PAYLOAD_TOO_LARGE");
        assert!(error.to_string().contains("16 bytes"), "{error}");
    }

    #[test]
    fn file_names_cannot_break_out_of_their_header() {
        assert_eq!(header_safe("a\"b\r\nc.png"), "a_b__c.png");
    }
}
