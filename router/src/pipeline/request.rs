//! Stage 1: turn an HTTP request into a GraphQL request (GraphQL over HTTP).

use apollo_compiler::response::{JsonMap, JsonValue};
use http::{HeaderMap, Method};
use serde::Deserialize;

use super::PipelineError;

#[derive(Debug, Clone)]
pub struct GraphQLRequest {
    /// The operation's text; absent when the client sends a persisted operation's id alone.
    pub query: Option<String>,
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
    query: Option<JsonValue>,
    document_id: Option<JsonValue>,
    operation_name: Option<JsonValue>,
    variables: Option<JsonValue>,
    extensions: Option<JsonValue>,
}

pub fn parse_post_body(headers: &HeaderMap, body: &[u8]) -> Result<GraphQLRequest, PipelineError> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime: Option<mime::Mime> = content_type.parse().ok();
    let is_json = mime
        .as_ref()
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
    if !is_json {
        // Multipart requests (files) are read by `uploads::parse_multipart`.
        return Err(PipelineError::UnsupportedMediaType(
            content_type.to_string(),
        ));
    }
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
            "query" => raw.query = Some(JsonValue::from(value)),
            "documentId" => raw.document_id = Some(JsonValue::from(value)),
            "operationName" => raw.operation_name = Some(JsonValue::from(value)),
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
    let as_string = |value: Option<JsonValue>, what: &str| match value {
        Some(JsonValue::String(s)) => Ok(Some(s.as_str().to_string())),
        Some(JsonValue::Null) | None => Ok(None),
        Some(_) => Err(PipelineError::BadRequest(format!(
            "\"{what}\" must be a string"
        ))),
    };
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
        let headers = {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                "application/json".parse().unwrap(),
            );
            h
        };
        let err = parse_post_body(&headers, br#"{"query": 1}"#).unwrap_err();
        assert!(matches!(err, PipelineError::BadRequest(_)));
        let err = parse_post_body(&headers, b"{not json").unwrap_err();
        assert!(matches!(err, PipelineError::BadRequest(_)));
    }
}
