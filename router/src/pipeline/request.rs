//! Stage 1: turn an HTTP request into a GraphQL request (GraphQL over HTTP).

use std::sync::Arc;

use apollo_compiler::response::{JsonMap, JsonValue};
use bytes::Bytes;
use http::{HeaderMap, Method};
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use serde::Deserialize;

use super::PipelineError;

#[derive(Debug, Clone)]
pub struct GraphQLRequest {
    /// The operation's text; absent when the client sends a persisted operation's id alone.
    /// Shared: the stages after this one hold it without copying it.
    pub query: Option<Arc<str>>,
    /// A persisted operation's id (GraphQL over HTTP persisted documents: `documentId`, with
    /// or without its `sha256:` prefix); `extensions.persistedQuery` is the APQ form.
    pub document_id: Option<String>,
    pub operation_name: Option<String>,
    pub variables: JsonMap,
    pub extensions: JsonMap,
    /// GET requests may only run queries.
    pub is_get: bool,
    /// Files sent with a multipart request (see [`super::uploads`]).
    pub uploads: super::uploads::Uploads,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawBody {
    query: Option<Text<Arc<str>>>,
    document_id: Option<Text<String>>,
    operation_name: Option<Text<String>>,
    variables: Option<JsonValue>,
    extensions: Option<JsonValue>,
}

/// A member that must be a string: read straight into its final type, since the operation
/// text can be large and each copy of it on the way costs.
/// Anything else is remembered as such, for a clear error.
pub(super) enum Text<T> {
    String(T),
    NotString,
}

impl<'de, T: for<'a> From<&'a str>> Deserialize<'de> for Text<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: for<'a> From<&'a str>> serde::de::Visitor<'de> for TextVisitor<T> {
    type Value = Text<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text::String(T::from(v)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Text::NotString)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Text::NotString)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Text::NotString)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Text::NotString)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Text::NotString)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Text::NotString)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Text::NotString)
    }
}

/// Requests parsed from JSON bodies, by the bodies' bytes. Clients send the same body again and
/// again (a page's operation with the same variables), and reading one is the costliest thing a
/// request that shares another's execution does: the gateway benchmark's 852-byte body, an
/// operation with an escaped newline per line, took 16 thousand of the 147 thousand
/// instructions such a request cost the router (callgrind, 50 clients, client deduplication).
/// Only bodies that parsed are kept; a body over [`MAX_CACHED_BODY`] bytes is read every time,
/// and the bodies kept weigh at most [`CACHED_BODIES_WEIGHT`].
pub struct ParsedBodies {
    cache: Cache<Bytes, GraphQLRequest, BodyWeight>,
}

/// The largest body kept parsed: the storefront's operations are a few KB.
pub const MAX_CACHED_BODY: usize = 16 * 1024;
/// What the kept bodies weigh at most, each twice its size (its bytes, and the request read
/// from them, which holds the operation's text again).
pub const CACHED_BODIES_WEIGHT: u64 = 8 * 1024 * 1024;

#[derive(Clone)]
struct BodyWeight;

impl Weighter<Bytes, GraphQLRequest> for BodyWeight {
    fn weight(&self, body: &Bytes, _: &GraphQLRequest) -> u64 {
        2 * body.len() as u64
    }
}

impl ParsedBodies {
    pub fn new() -> Self {
        Self {
            cache: Cache::with_weighter(1024, CACHED_BODIES_WEIGHT, BodyWeight),
        }
    }

    /// The request a POST body holds: JSON only (multipart requests, with files, are read by
    /// `uploads::parse_multipart`), read once per distinct body.
    pub fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<GraphQLRequest, PipelineError> {
        ensure_json(headers)?;
        if body.len() > MAX_CACHED_BODY {
            return parse_json_body(body);
        }
        if let Some(request) = self.cache.get(body) {
            return Ok(request);
        }
        let request = parse_json_body(body)?;
        // A copy of its own: the body read may sit in a larger buffer, which the cache would
        // otherwise keep whole.
        self.cache
            .insert(Bytes::copy_from_slice(body), request.clone());
        Ok(request)
    }

    /// How many bodies are kept parsed.
    pub fn kept(&self) -> usize {
        self.cache.len()
    }
}

impl Default for ParsedBodies {
    fn default() -> Self {
        Self::new()
    }
}

fn ensure_json(headers: &HeaderMap) -> Result<(), PipelineError> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime: Option<mime::Mime> = content_type.parse().ok();
    let is_json = mime
        .as_ref()
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
    if !is_json {
        return Err(PipelineError::UnsupportedMediaType(
            content_type.to_string(),
        ));
    }
    Ok(())
}

fn parse_json_body(body: &[u8]) -> Result<GraphQLRequest, PipelineError> {
    let raw: RawBody = serde_json::from_slice(body)
        .map_err(|e| PipelineError::BadRequest(format!("malformed JSON body: {e}")))?;
    build_request(raw, false)
}

pub fn parse_get_query(
    method: &Method,
    query_string: &str,
) -> Result<GraphQLRequest, PipelineError> {
    debug_assert_eq!(method, Method::GET);
    let mut raw = RawBody {
        query: None,
        document_id: None,
        operation_name: None,
        variables: None,
        extensions: None,
    };
    for (key, value) in form_urlencoded_pairs(query_string) {
        let parse_json = |v: &str, what: &str| {
            serde_json::from_str::<JsonValue>(v)
                .map_err(|e| PipelineError::BadRequest(format!("malformed {what} JSON: {e}")))
        };
        match key.as_str() {
            "query" => raw.query = Some(Text::String(value.into())),
            "documentId" => raw.document_id = Some(Text::String(value)),
            "operationName" => raw.operation_name = Some(Text::String(value)),
            "variables" => raw.variables = Some(parse_json(&value, "variables")?),
            "extensions" => raw.extensions = Some(parse_json(&value, "extensions")?),
            _ => {}
        }
    }
    build_request(raw, true)
}

/// GET may only run queries (GraphQL over HTTP): it must be safe to repeat and to cache.
pub fn ensure_method_allows(
    request: &GraphQLRequest,
    operation_type: apollo_compiler::executable::OperationType,
) -> Result<(), PipelineError> {
    if request.is_get && !operation_type.is_query() {
        return Err(PipelineError::MutationOverGet);
    }
    Ok(())
}

pub(super) fn build_request(raw: RawBody, is_get: bool) -> Result<GraphQLRequest, PipelineError> {
    fn as_string<T>(value: Option<Text<T>>, what: &str) -> Result<Option<T>, PipelineError> {
        match value {
            Some(Text::String(s)) => Ok(Some(s)),
            None => Ok(None),
            Some(Text::NotString) => Err(PipelineError::BadRequest(format!(
                "\"{what}\" must be a string"
            ))),
        }
    }
    let query = as_string(raw.query, "query")?;
    let document_id = as_string(raw.document_id, "documentId")?;
    let operation_name = as_string(raw.operation_name, "operationName")?;
    let as_map = |value: Option<JsonValue>, what: &str| match value {
        Some(JsonValue::Object(map)) => Ok(map),
        Some(JsonValue::Null) | None => Ok(JsonMap::new()),
        Some(_) => Err(PipelineError::BadRequest(format!(
            "\"{what}\" must be an object"
        ))),
    };
    Ok(GraphQLRequest {
        query,
        document_id,
        operation_name,
        variables: as_map(raw.variables, "variables")?,
        extensions: as_map(raw.extensions, "extensions")?,
        is_get,
        uploads: Default::default(),
    })
}

/// Splits `a=1&b=2` with percent-decoding and `+` as space.
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameters_are_percent_decoded() {
        let req = parse_get_query(
            &Method::GET,
            "query=%7B%20me%20%7B%20id%20%7D%20%7D&variables=%7B%22a%22%3A1%7D&operationName=Me",
        )
        .unwrap();
        assert_eq!(req.query.as_deref(), Some("{ me { id } }"));
        assert_eq!(req.operation_name.as_deref(), Some("Me"));
        assert_eq!(req.variables.get("a"), Some(&JsonValue::from(1)));
        assert!(req.is_get);
    }

    #[test]
    fn a_trailing_percent_is_kept() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a+b%21"), "a b!");
    }

    #[test]
    fn non_string_query_is_a_bad_request() {
        let bodies = ParsedBodies::new();
        let headers = json_headers();
        for body in [
            &br#"{"query": 1}"#[..],
            br#"{"query": ["{ a }"]}"#,
            br#"{"query": {"text": "{ a }"}, "variables": {}}"#,
            br#"{"query": "{ a }", "operationName": true}"#,
        ] {
            let err = bodies.parse(&headers, body).unwrap_err();
            assert!(
                matches!(&err, PipelineError::BadRequest(m) if m.ends_with("must be a string")),
                "{err:?}"
            );
        }
        let escaped = bodies
            .parse(
                &headers,
                br#"{"query": "{ a(s: \"\u00e9\\n\") }", "operationName": null}"#,
            )
            .unwrap();
        assert_eq!(escaped.query.as_deref(), Some("{ a(s: \"\u{e9}\\n\") }"));
        assert_eq!(escaped.operation_name, None);
        let err = bodies.parse(&headers, b"{not json").unwrap_err();
        assert!(matches!(err, PipelineError::BadRequest(_)));
    }

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        headers
    }

    #[test]
    fn a_body_sent_again_is_read_from_the_cache_and_reads_the_same() {
        let bodies = ParsedBodies::new();
        let headers = json_headers();
        let body = Bytes::from_static(
            br#"{"query": "query P($id: ID!) {\n  p(id: $id) { a }\n}", "operationName": "P", "variables": {"id": "1"}, "extensions": {"cost": true}}"#,
        );
        let first = bodies.parse(&headers, &body).unwrap();
        assert_eq!(bodies.kept(), 1);
        let again = bodies.parse(&headers, &body).unwrap();
        assert_eq!(bodies.kept(), 1, "the same body is kept once");
        for request in [&first, &again] {
            assert_eq!(
                request.query.as_deref(),
                Some("query P($id: ID!) {\n  p(id: $id) { a }\n}")
            );
            assert_eq!(request.operation_name.as_deref(), Some("P"));
            assert_eq!(request.variables.get("id"), Some(&JsonValue::from("1")));
            assert_eq!(request.extensions.get("cost"), Some(&JsonValue::from(true)));
            assert!(!request.is_get);
        }
        // Another body is another entry; the content type is checked every time.
        let other = Bytes::from_static(br#"{"query": "{ a }", "variables": {"id": "2"}}"#);
        assert_eq!(
            bodies.parse(&headers, &other).unwrap().variables.get("id"),
            Some(&JsonValue::from("2"))
        );
        assert_eq!(bodies.kept(), 2);
        let err = bodies.parse(&HeaderMap::new(), &body).unwrap_err();
        assert!(
            matches!(err, PipelineError::UnsupportedMediaType(_)),
            "{err:?}"
        );
    }

    #[test]
    fn bodies_that_fail_or_are_large_are_not_kept() {
        let bodies = ParsedBodies::new();
        let headers = json_headers();
        for bad in [
            &b"{not json"[..],
            br#"{"query": 1}"#,
            br#"{"variables": []}"#,
        ] {
            let body = Bytes::copy_from_slice(bad);
            assert!(matches!(
                bodies.parse(&headers, &body),
                Err(PipelineError::BadRequest(_))
            ));
        }
        let large = format!(
            r#"{{"query": "{{ a }}", "x": "{}"}}"#,
            "y".repeat(MAX_CACHED_BODY)
        );
        let request = bodies.parse(&headers, &Bytes::from(large)).unwrap();
        assert_eq!(request.query.as_deref(), Some("{ a }"));
        assert_eq!(bodies.kept(), 0);
    }
}
