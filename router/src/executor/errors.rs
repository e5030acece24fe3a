//! Subgraph errors and failures as client errors: codes, the subgraph's name, and entity
//! error paths rewritten to where the entities stand in the client's response.

use apollo_compiler::response::{JsonMap, JsonValue};

use super::entities::{EntityBatch, EntityCall};
use super::merge::path_to_json;
use super::transport::TransportError;
use crate::graphql_error::GraphQLError;

/// `[responseKey, i, ...rest]` becomes, for every entity sent as representation `i` of that
/// entity call, the entity's path followed by `rest`. Other errors stay without a path.
pub(super) fn entity_error_paths(
    path: Option<&[JsonValue]>,
    calls: &[EntityCall<'_>],
    batches: &[EntityBatch<'_>],
) -> Vec<Option<Vec<JsonValue>>> {
    let target = path.and_then(|path| {
        let key = path.first().and_then(JsonValue::as_str)?;
        let index = path.get(1).and_then(JsonValue::as_u64)? as usize;
        let call = calls.iter().position(|c| c.response_key == key)?;
        Some((call, index, &path[2..]))
    });
    let Some((call, index, rest)) = target else {
        return vec![None];
    };
    let paths: Vec<_> = batches[call]
        .entities()
        .filter(|(_, i)| *i == index)
        .map(|(entity_path, _)| {
            let mut full = path_to_json(entity_path);
            full.extend(rest.iter().cloned());
            Some(full)
        })
        .collect();
    if paths.is_empty() {
        vec![None]
    } else {
        paths
    }
}

/// An error a subgraph reported, placed at `path` in the client's response.
pub(super) fn subgraph_error(
    service: &str,
    message: String,
    extensions: Option<JsonMap>,
    path: Option<Vec<JsonValue>>,
) -> GraphQLError {
    let mut extensions = extensions.unwrap_or_default();
    if !extensions.contains_key("code") {
        extensions.insert("code", JsonValue::from("DOWNSTREAM_SERVICE_ERROR"));
    }
    extensions.insert("serviceName", JsonValue::from(service));
    GraphQLError {
        message,
        locations: Vec::new(),
        path,
        extensions,
    }
}

pub(super) fn fetch_failed(
    service: &str,
    error: &TransportError,
    path: Option<Vec<JsonValue>>,
) -> GraphQLError {
    tracing::warn!(subgraph = service, error = ?error, "subgraph request failed");
    GraphQLError {
        path,
        ..GraphQLError::new(
            format!("Request to subgraph \"{service}\" failed: {error}"),
            error.code(),
        )
        .with_extension("serviceName", service)
    }
}
