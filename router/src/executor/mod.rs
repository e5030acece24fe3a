//! Executes a query plan: walks Sequence/Parallel/Condition/Flatten/Fetch nodes, sends each
//! fetch to its subgraph and merges the answers into one data tree. Shaping that tree into the
//! client's response is the `respond` stage's job.

pub mod entities;
pub mod json;
pub mod transport;

use std::sync::Mutex;

use apollo_compiler::response::{JsonMap, JsonValue};
use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use std::collections::BTreeSet;

use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    BatchFetchNode, FetchNode, FetchRewrite, FlattenNodePath, FlattenNodePathSegment, PlanNode,
    QueryPlan,
};
use http::HeaderMap;
use indexmap::IndexSet;

use self::entities::{apply_rewrite, collect_entity_batch, EntityBatch};
use self::json::{deep_merge, path_to_json, value_at_mut};
use self::transport::{SubgraphError, SubgraphResponse, Transport, TransportError};
use crate::graphql_error::GraphQLError;
use crate::supergraph::Supergraph;

/// What execution produced: merged subgraph data and the errors met on the way.
pub struct ExecutionOutput {
    pub data: JsonValue,
    pub errors: Vec<GraphQLError>,
}

struct ExecutionContext<'a> {
    supergraph: &'a Supergraph,
    transport: &'a Transport,
    variables: &'a JsonMap,
    headers: &'a HeaderMap,
    /// Locked only between awaits: to read entities before a fetch and to merge after it.
    data: Mutex<JsonValue>,
    errors: Mutex<Vec<GraphQLError>>,
}

pub async fn execute_plan(
    supergraph: &Supergraph,
    transport: &Transport,
    plan: &QueryPlan,
    variables: &JsonMap,
    headers: &HeaderMap,
) -> ExecutionOutput {
    let ctx = ExecutionContext {
        supergraph,
        transport,
        variables,
        headers,
        data: Mutex::new(JsonValue::Object(JsonMap::new())),
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
            PlanNode::Fetch(fetch) => execute_root_fetch(ctx, fetch).await,
            PlanNode::BatchFetch(batch) => execute_batch_fetch(ctx, batch).await,
            PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                PlanNode::Fetch(fetch) => execute_entity_fetch(ctx, &flatten.path, fetch).await,
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

async fn execute_root_fetch(ctx: &ExecutionContext<'_>, fetch: &FetchNode) {
    let body = request_body(
        &fetch.operation.document_str,
        fetch.variable_usages.as_ref(),
        ctx.variables,
        &[],
    );
    let response = match ctx
        .transport
        .fetch(&fetch.service_name, body, ctx.headers)
        .await
    {
        Ok(response) => response,
        Err(error) => {
            push_errors(ctx, [fetch_failed(&fetch.service_name, &error, None)]);
            return;
        }
    };
    let SubgraphResponse { data, errors } = response;
    if let Some(mut data) = data.filter(|d| d.is_object()) {
        apply_rewrites(&mut data, fetch.output_rewrites.as_deref(), ctx.supergraph);
        let mut merged = ctx.data.lock().unwrap_or_else(|e| e.into_inner());
        deep_merge(&mut merged, data);
    }
    let errors = errors.unwrap_or_default();
    push_errors(
        ctx,
        errors
            .into_iter()
            // Root fetch errors already carry the client's paths.
            .map(|e| subgraph_error(&fetch.service_name, e, |path| path)),
    );
}

/// One `_entities` selection of a subgraph request: which entities it is for and how to build
/// and read back their representations. A Flatten(Fetch) has one; a BatchFetch one per alias.
struct EntityCall<'p> {
    /// Response key of the `_entities` field in the subgraph's answer.
    response_key: &'p str,
    /// Variable that carries the representations.
    variable: &'p str,
    paths: Vec<&'p [FlattenNodePathSegment]>,
    requires: &'p SelectionSet,
    input_rewrites: Option<&'p [FetchRewrite]>,
    output_rewrites: Option<&'p [FetchRewrite]>,
}

/// The subgraph request shared by the entity calls of one plan node.
struct EntityRequest<'p> {
    service: &'p str,
    operation: &'p str,
    variable_usages: Option<&'p BTreeSet<String>>,
}

async fn execute_entity_fetch(
    ctx: &ExecutionContext<'_>,
    flatten_path: &FlattenNodePath,
    fetch: &FetchNode,
) {
    let Some(requires) = &fetch.requires else {
        // A Flatten around a non-entity fetch does not occur in plans; treat it as a root fetch.
        return execute_root_fetch(ctx, fetch).await;
    };
    let call = EntityCall {
        response_key: "_entities",
        variable: "representations",
        paths: vec![flatten_path.as_slice()],
        requires,
        input_rewrites: fetch.input_rewrites.as_deref(),
        output_rewrites: fetch.output_rewrites.as_deref(),
    };
    let request = EntityRequest {
        service: &fetch.service_name,
        operation: &fetch.operation.document_str,
        variable_usages: fetch.variable_usages.as_ref(),
    };
    execute_entity_calls(ctx, request, vec![call]).await;
}

async fn execute_batch_fetch(ctx: &ExecutionContext<'_>, batch: &BatchFetchNode) {
    let calls = batch
        .entity_batch
        .aliases
        .iter()
        .map(|alias| EntityCall {
            response_key: &alias.alias,
            variable: &alias.representations_variable_name,
            paths: alias
                .merge_paths
                .iter()
                .map(FlattenNodePath::as_slice)
                .collect(),
            requires: &alias.requires,
            input_rewrites: alias.input_rewrites.as_deref(),
            output_rewrites: alias.output_rewrites.as_deref(),
        })
        .collect();
    let request = EntityRequest {
        service: &batch.service_name,
        operation: &batch.operation.document_str,
        variable_usages: batch.variable_usages.as_ref(),
    };
    execute_entity_calls(ctx, request, calls).await;
}

async fn execute_entity_calls(
    ctx: &ExecutionContext<'_>,
    request: EntityRequest<'_>,
    calls: Vec<EntityCall<'_>>,
) {
    let batches: Vec<EntityBatch<'_>> = {
        let data = ctx.data.lock().unwrap_or_else(|e| e.into_inner());
        calls
            .iter()
            .map(|call| {
                collect_entity_batch(
                    &data,
                    &call.paths,
                    call.requires,
                    call.input_rewrites,
                    ctx.supergraph,
                )
            })
            .collect()
    };
    if batches.iter().all(|b| b.representations.is_empty()) {
        return;
    }
    let representations: Vec<(&str, &IndexSet<Vec<u8>>)> = calls
        .iter()
        .zip(&batches)
        .map(|(call, batch)| (call.variable, &batch.representations))
        .collect();
    let body = request_body(
        request.operation,
        request.variable_usages,
        ctx.variables,
        &representations,
    );
    let response = match ctx
        .transport
        .fetch(request.service, body, ctx.headers)
        .await
    {
        Ok(response) => response,
        Err(error) => {
            let first_path = batches
                .iter()
                .find_map(|b| b.entities.first())
                .map(|(p, _)| path_to_json(p));
            push_errors(ctx, [fetch_failed(request.service, &error, first_path)]);
            return;
        }
    };

    let SubgraphResponse { data, errors } = response;
    let mut data = match data {
        Some(JsonValue::Object(map)) => map,
        _ => JsonMap::new(),
    };
    {
        let mut merged = ctx.data.lock().unwrap_or_else(|e| e.into_inner());
        for (call, batch) in calls.iter().zip(&batches) {
            let mut results = match data.remove(call.response_key) {
                Some(JsonValue::Array(items)) => items,
                _ => Vec::new(),
            };
            for result in &mut results {
                apply_rewrites(result, call.output_rewrites, ctx.supergraph);
            }
            merge_entity_results(&mut merged, batch, results);
        }
    }

    let errors = errors.unwrap_or_default();
    if !errors.is_empty() {
        let repathed: Vec<GraphQLError> = errors
            .into_iter()
            .flat_map(|error| {
                entity_error_paths(error.path.as_deref(), &calls, &batches)
                    .into_iter()
                    .map(|path| {
                        let error = SubgraphError {
                            message: error.message.clone(),
                            path: None,
                            extensions: error.extensions.clone(),
                        };
                        subgraph_error(request.service, error, |_| path.clone())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        push_errors(ctx, repathed);
    }
}

/// Merges each entity's result into the entity where it stands in the response.
fn merge_entity_results(
    merged: &mut JsonValue,
    batch: &EntityBatch<'_>,
    mut results: Vec<JsonValue>,
) {
    // How many entities still need each result, so the last one can take it without a copy.
    let mut uses = vec![0usize; results.len()];
    for (_, index) in &batch.entities {
        if let Some(count) = uses.get_mut(*index) {
            *count += 1;
        }
    }
    for (path, index) in &batch.entities {
        let Some(result) = results.get_mut(*index) else {
            continue;
        };
        if result.is_null() {
            continue;
        }
        uses[*index] -= 1;
        let value = if uses[*index] == 0 {
            std::mem::take(result)
        } else {
            result.clone()
        };
        if let Some(target) = value_at_mut(merged, path) {
            deep_merge(target, value);
        }
    }
}

/// `[responseKey, i, ...rest]` becomes, for every entity sent as representation `i` of that
/// entity call, the entity's path followed by `rest`. Other errors stay without a path.
fn entity_error_paths(
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
        .entities
        .iter()
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

fn apply_rewrites(value: &mut JsonValue, rewrites: Option<&[FetchRewrite]>, sg: &Supergraph) {
    for rewrite in rewrites.unwrap_or_default() {
        apply_rewrite(value, rewrite, sg);
    }
}

fn subgraph_error(
    service: &str,
    error: SubgraphError,
    repath: impl Fn(Option<Vec<JsonValue>>) -> Option<Vec<JsonValue>>,
) -> GraphQLError {
    let mut extensions = error.extensions.unwrap_or_default();
    if !extensions.contains_key("code") {
        extensions.insert("code", JsonValue::from("DOWNSTREAM_SERVICE_ERROR"));
    }
    extensions.insert("serviceName", JsonValue::from(service));
    GraphQLError {
        message: error.message,
        locations: Vec::new(),
        path: repath(error.path),
        extensions,
    }
}

fn fetch_failed(
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

/// The subgraph request body: the operation, only the variables it uses, and for entity calls
/// the representations, embedded as already-serialized JSON.
fn request_body(
    operation: &str,
    variable_usages: Option<&BTreeSet<String>>,
    variables: &JsonMap,
    representations: &[(&str, &IndexSet<Vec<u8>>)],
) -> Vec<u8> {
    let size = operation.len()
        + 64
        + representations
            .iter()
            .map(|(_, reps)| reps.iter().map(|r| r.len() + 1).sum::<usize>() + 32)
            .sum::<usize>();
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"{\"query\":");
    serde_json::to_writer(&mut body, operation).expect("strings serialize");
    body.extend_from_slice(b",\"variables\":{");
    let mut first = true;
    for (variable, reps) in representations {
        if !first {
            body.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut body, variable).expect("strings serialize");
        body.extend_from_slice(b":[");
        for (i, representation) in reps.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(representation);
        }
        body.push(b']');
    }
    for name in variable_usages.into_iter().flatten() {
        if let Some(value) = variables.get(name.as_str()) {
            if !first {
                body.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut body, name).expect("strings serialize");
            body.push(b':');
            serde_json::to_writer(&mut body, value).expect("JSON values serialize");
        }
    }
    body.extend_from_slice(b"}}");
    body
}
