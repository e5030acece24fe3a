//! Executes a query plan: walks Sequence/Parallel/Condition/Flatten/Fetch nodes, sends each
//! fetch to its subgraph and merges the answers into one data tree. Shaping that tree into the
//! client's response is the `respond` stage's job.

pub mod breaker;
pub mod canonical;
mod connection;
pub mod entities;
mod errors;
mod fetch;
pub mod merge;
pub mod transport;
pub mod value;

use crate::pipeline::uploads::Uploads;
use std::sync::Mutex;

use apollo_compiler::response::{JsonMap, JsonValue};

use self::value::{Object, Value};
use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use hive_router_query_planner::planner::plan_nodes::{PlanNode, QueryPlan};
use http::HeaderMap;

use self::fetch::{execute_batch_fetch, execute_entity_fetch, execute_root_fetch};
use self::transport::Transport;
use crate::graphql_error::GraphQLError;
use crate::supergraph::Supergraph;

/// What execution produced: merged subgraph data and the errors met on the way.
pub struct ExecutionOutput {
    pub data: Value,
    pub errors: Vec<GraphQLError>,
}

struct ExecutionContext<'a> {
    supergraph: &'a Supergraph,
    transport: &'a Transport,
    variables: &'a JsonMap,
    /// Files of a multipart request, sent with the root fetches that use their variables.
    uploads: &'a Uploads,
    headers: &'a HeaderMap,
    /// Whether identical subgraph requests may share a call (queries; never mutations).
    shareable: bool,
    /// Locked only between awaits: to read entities before a fetch and to merge after it.
    data: Mutex<Value>,
    errors: Mutex<Vec<GraphQLError>>,
}

/// Runs `plan`. `is_query`: the operation is a query, so its subgraph requests may be shared
/// with identical ones in flight (a mutation's never are).
pub async fn execute_plan(
    supergraph: &Supergraph,
    transport: &Transport,
    plan: &QueryPlan,
    variables: &JsonMap,
    uploads: &Uploads,
    headers: &HeaderMap,
    is_query: bool,
) -> ExecutionOutput {
    let ctx = ExecutionContext {
        supergraph,
        transport,
        variables,
        uploads,
        headers,
        shareable: is_query,
        data: Mutex::new(Value::Object(Object::new())),
        errors: Mutex::new(Vec::new()),
    };
    if let Some(node) = &plan.node {
        execute_node(&ctx, node).await;
    }
    ExecutionOutput {
        data: ctx.data.into_inner().unwrap_or_else(|e| e.into_inner()),
        errors: ctx.errors.into_inner().unwrap_or_else(|e| e.into_inner()),
    }
}

fn execute_node<'a>(ctx: &'a ExecutionContext<'a>, node: &'a PlanNode) -> BoxFuture<'a, ()> {
    async move {
        match node {
            PlanNode::Sequence(sequence) => {
                for child in &sequence.nodes {
                    execute_node(ctx, child).await;
                }
            }
            PlanNode::Parallel(parallel) => {
                join_all(parallel.nodes.iter().map(|child| execute_node(ctx, child))).await;
            }
            PlanNode::Condition(condition) => {
                let value = ctx
                    .variables
                    .get(condition.condition.as_str())
                    .and_then(JsonValue::as_bool)
                    .unwrap_or(false);
                let branch = if value {
                    &condition.if_clause
                } else {
                    &condition.else_clause
                };
                if let Some(branch) = branch {
                    execute_node(ctx, branch).await;
                }
            }
            // Each fetch's future (a subgraph call's state, some kilobytes) is boxed on its
            // own, so that the futures of Sequence and Parallel nodes stay small: each is
            // moved into its box whole.
            PlanNode::Fetch(fetch) => execute_root_fetch(ctx, fetch).boxed().await,
            PlanNode::BatchFetch(batch) => execute_batch_fetch(ctx, batch).boxed().await,
            PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                PlanNode::Fetch(fetch) => {
                    execute_entity_fetch(ctx, &flatten.path, fetch)
                        .boxed()
                        .await
                }
                other => unsupported(ctx, other),
            },
            other => unsupported(ctx, other),
        }
    }
    .boxed()
}

fn unsupported(ctx: &ExecutionContext<'_>, node: &PlanNode) {
    let kind = match node {
        PlanNode::Subscription(_) => "Subscription",
        PlanNode::Defer(_) => "Defer",
        _ => "nested Flatten",
    };
    tracing::error!(kind, "query plan node not supported by the executor");
    push_errors(
        ctx,
        [GraphQLError::new(
            format!("{kind} plan nodes are not supported"),
            "PLAN_NOT_SUPPORTED",
        )],
    );
}

fn push_errors(ctx: &ExecutionContext<'_>, errors: impl IntoIterator<Item = GraphQLError>) {
    ctx.errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(errors);
}
