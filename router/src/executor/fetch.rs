//! Fetch nodes: one subgraph request each, for root fields or for entities (`_entities`,
//! one selection per Flatten(Fetch), one per alias in a BatchFetch), merged into the data.

use std::collections::BTreeSet;

use apollo_compiler::response::JsonMap;
use hive_router_query_planner::planner::plan_nodes::{BatchFetchNode, FetchNode, FlattenNodePath};

use super::entities::{
    apply_rewrites, collect_entity_batch, EntityBatch, EntityCall, Representations,
};
use super::errors::{entity_error_paths, fetch_failed, subgraph_error};
use super::merge::{deep_merge, deep_merge_copy, path_to_json, value_at_mut};
use super::transport::SubgraphResponse;
use super::value::{Object, Value};
use super::{push_errors, ExecutionContext};
use crate::graphql_error::GraphQLError;
use crate::pipeline::uploads;
use crate::supergraph::Supergraph;

pub(super) async fn execute_root_fetch(ctx: &ExecutionContext<'_>, fetch: &FetchNode) {
    let used = fetch.variable_usages.iter().flatten().map(String::as_str);
    let files = ctx.uploads.for_variables(used);
    let response = if files.is_empty() {
        let body = request_body(
            &fetch.operation.document_str,
            fetch.variable_usages.as_ref(),
            ctx.variables,
            &[],
        );
        ctx.transport
            .fetch(&fetch.service_name, body, ctx.headers, ctx.shareable)
            .await
    } else {
        let operations = request_body(
            &fetch.operation.document_str,
            fetch.variable_usages.as_ref(),
            &uploads::with_nulls(ctx.variables, &files),
            &[],
        );
        let (body, boundary) = uploads::multipart_body(&operations, &files);
        ctx.transport
            .fetch_multipart(&fetch.service_name, body, &boundary, ctx.headers)
            .await
    };
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            push_errors(ctx, [fetch_failed(&fetch.service_name, &error, None)]);
            return;
        }
    };
    let SubgraphResponse { data, errors } = response;
    if let Some(mut data) = data.filter(|d| d.as_object().is_some()) {
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
            .map(|e| subgraph_error(&fetch.service_name, e.message, e.extensions, e.path)),
    );
}

/// The subgraph request shared by the entity calls of one plan node.
struct EntityRequest<'p> {
    service: &'p str,
    operation: &'p str,
    variable_usages: Option<&'p BTreeSet<String>>,
}

pub(super) async fn execute_entity_fetch(
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

pub(super) async fn execute_batch_fetch(ctx: &ExecutionContext<'_>, batch: &BatchFetchNode) {
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
    let representations: Vec<(&str, &Representations)> = calls
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
        .fetch(request.service, body, ctx.headers, ctx.shareable)
        .await
    {
        Ok(response) => response,
        Err(error) => {
            let first_path = batches
                .iter()
                .find_map(|b| b.entities().next())
                .map(|(p, _)| path_to_json(p));
            push_errors(ctx, [fetch_failed(request.service, &error, first_path)]);
            return;
        }
    };

    let SubgraphResponse { data, errors } = response;
    let mut data = match data {
        Some(Value::Object(map)) => map,
        _ => Object::new(),
    };
    {
        let mut merged = ctx.data.lock().unwrap_or_else(|e| e.into_inner());
        for (call, batch) in calls.iter().zip(&batches) {
            let mut results = match data.remove(call.response_key) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for result in &mut results {
                apply_rewrites(result, call.output_rewrites, ctx.supergraph);
            }
            merge_entity_results(&mut merged, batch, results, ctx.supergraph);
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
                        let extensions = error.extensions.clone();
                        subgraph_error(request.service, error.message.clone(), extensions, path)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        push_errors(ctx, repathed);
    }
}

/// Merges each entity's result into the entity where it stands in the response.
fn merge_entity_results(
    merged: &mut Value,
    batch: &EntityBatch<'_>,
    mut results: Vec<Value>,
    supergraph: &Supergraph,
) {
    // How many entities still need each result, so the last one can take it without a copy.
    let mut uses = vec![0usize; results.len()];
    for (_, index) in batch.entities() {
        if let Some(count) = uses.get_mut(index) {
            *count += 1;
        }
    }
    for (path, index) in batch.entities() {
        let Some(result) = results.get_mut(index) else {
            continue;
        };
        if result.is_null() {
            continue;
        }
        uses[index] -= 1;
        let Some(target) = value_at_mut(merged, path) else {
            continue;
        };
        let keep_typename = keeps_concrete_typename(target, result, supergraph);
        if uses[index] > 0 && !keep_typename {
            // Copy only what the entity lacks, instead of a whole copy of the result.
            deep_merge_copy(target, result);
            continue;
        }
        let mut value = if uses[index] == 0 {
            std::mem::take(result)
        } else {
            result.clone()
        };
        if keep_typename {
            if let Value::Object(object) = &mut value {
                object.remove("__typename");
            }
        }
        deep_merge(target, value);
    }
}

/// An `@interfaceObject` subgraph answers with the interface's name as `__typename`; it must
/// not replace the object type another subgraph already named for the entity.
fn keeps_concrete_typename(target: &Value, result: &Value, supergraph: &Supergraph) -> bool {
    let (Some(known), Some(incoming)) = (target.typename(), result.typename()) else {
        return false;
    };
    known != incoming && supergraph.is_interface(incoming) && !supergraph.is_interface(known)
}

/// The subgraph request body: the operation, only the variables it uses, and for entity calls
/// the representations, embedded as already-serialized JSON.
fn request_body(
    operation: &str,
    variable_usages: Option<&BTreeSet<String>>,
    variables: &JsonMap,
    representations: &[(&str, &Representations)],
) -> Vec<u8> {
    let size = operation.len()
        + 64
        + representations
            .iter()
            .map(|(_, reps)| reps.iter().map(|r| r.len() + 1).sum::<usize>() + 32)
            .sum::<usize>();
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"{\"query\":");
    sonic_rs::to_writer(&mut body, operation).expect("strings serialize");
    body.extend_from_slice(b",\"variables\":{");
    let mut first = true;
    for (variable, reps) in representations {
        if !first {
            body.push(b',');
        }
        first = false;
        sonic_rs::to_writer(&mut body, variable).expect("strings serialize");
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
            sonic_rs::to_writer(&mut body, name).expect("strings serialize");
            body.push(b':');
            sonic_rs::to_writer(&mut body, value).expect("JSON values serialize");
        }
    }
    body.extend_from_slice(b"}}");
    body
}
