//! Execution: run the plan against the subgraphs and shape the merged data into the client's
//! response body.

use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use bytes::Bytes;
use http::HeaderMap;

use super::prepare::PreparedOperation;
use super::respond::shape_response;
use super::uploads::Uploads;
use crate::executor::execute_plan;
use crate::executor::value::Value;
use crate::AppState;

/// What one execution gives: the response body (GraphQL errors of the execution included)
/// and the actual cost of its data.
#[derive(Clone)]
pub struct Executed {
    pub body: Bytes,
    pub actual_cost: u64,
}

pub async fn execute_operation(
    state: &AppState,
    prepared: &PreparedOperation,
    variables: &Valid<JsonMap>,
    uploads: &Uploads,
    headers: &HeaderMap,
) -> Executed {
    let (data, errors) = match &prepared.plan {
        Some(plan) => {
            let output = execute_plan(
                &state.supergraph,
                &state.transport,
                plan,
                variables,
                uploads,
                headers,
                prepared.operation_type().is_query(),
            )
            .await;
            (output.data, output.errors)
        }
        None => (Value::Null, Vec::new()),
    };
    let response = shape_response(&state.supergraph, prepared, variables, &data, errors);
    let actual_cost = response.actual_cost;
    Executed {
        body: Bytes::from(response.into_bytes()),
        actual_cost,
    }
}
