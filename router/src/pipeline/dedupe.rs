//! Client request deduplication: identical in-flight query operations share one execution
//! and one response body (and its actual cost).
//!
//! Requests are identical when they run the same prepared operation with the same variables
//! and carry the same values of every header that reaches a subgraph or the authorization
//! decision
//! ([`IDENTITY_HEADERS`](crate::executor::transport::IDENTITY_HEADERS)), so two callers with different tokens never share. Trace
//! headers are not part of the key: the shared execution carries the first caller's.
//! Mutations always run on their own.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::execute::{execute_operation, Executed};
use super::prepare::PreparedOperation;
use super::uploads::Uploads;
use super::PipelineError;
use crate::executor::transport::identity_header_values;
use crate::inflight::{HashedKey, Inflight};
use crate::AppState;

#[derive(Clone)]
struct ClientKey {
    /// Compared by address: the plan cache hands equal operations the same one, and the key
    /// holds it, so the address cannot be reused while the key lives.
    operation: Arc<PreparedOperation>,
    variables: Bytes,
    headers: Vec<Option<HeaderValue>>,
}

impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.operation, &other.operation)
            && self.variables == other.variables
            && self.headers == other.headers
    }
}

impl Eq for ClientKey {}

impl Hash for ClientKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.operation) as usize).hash(state);
        self.variables.hash(state);
        self.headers.hash(state);
    }
}

pub struct ClientDedupe {
    enabled: bool,
    inflight: Arc<Inflight<ClientKey, Executed>>,
}

impl ClientDedupe {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            inflight: Inflight::new(),
        }
    }

    /// How many client operations so far shared an identical execution in flight.
    pub fn executions_shared(&self) -> u64 {
        self.inflight.joined()
    }
}

/// Executes the operation, or waits for an identical one in flight and answers with its
/// response body.
pub async fn execute_deduplicated(
    state: &Arc<AppState>,
    prepared: Arc<PreparedOperation>,
    variables: Valid<JsonMap>,
    uploads: &Uploads,
    headers: &HeaderMap,
) -> Result<Executed, PipelineError> {
    let dedupe = &state.client_dedupe;
    if !dedupe.enabled || !prepared.operation_type().is_query() {
        return Ok(execute_operation(state, &prepared, &variables, uploads, headers).await);
    }
    let key = HashedKey::new(ClientKey {
        operation: prepared.clone(),
        variables: Bytes::from(serde_json::to_vec(&*variables).expect("JSON values serialize")),
        headers: identity_header_values(headers),
    });
    let state = state.clone();
    let headers = headers.clone();
    // Queries carry no files (see `uploads`).
    let execution = move || async move {
        execute_operation(&state, &prepared, &variables, &Uploads::default(), &headers).await
    };
    dedupe
        .inflight
        .run(key, execution)
        .await
        .ok_or_else(|| PipelineError::Internal("a shared execution panicked".into()))
}
