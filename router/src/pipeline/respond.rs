//! Stage 4: shape the merged subgraph data into the client's response.
//!
//! The client's operation is executed by apollo-compiler's spec executor over the merged data:
//! each field resolves to the value stored under its response key. That gives the GraphQL
//! spec's completion for free: aliases, fragments on abstract types, `@skip`/`@include`,
//! `__typename`, introspection, leaf coercion and null propagation.

use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::Type;
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use serde::Serialize;

use super::prepare::PreparedOperation;
use crate::graphql_error::GraphQLError;
use crate::supergraph::Supergraph;

#[derive(Debug, Serialize)]
pub struct GraphQLResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<JsonValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQLError>,
}

impl GraphQLResponse {
    pub fn from_errors(errors: Vec<GraphQLError>) -> Self {
        Self { data: None, errors }
    }
}

pub fn shape_response(
    supergraph: &Supergraph,
    prepared: &PreparedOperation,
    variables: &Valid<JsonMap>,
    data: &JsonValue,
    mut errors: Vec<GraphQLError>,
) -> GraphQLResponse {
    let empty = JsonMap::new();
    let root = data.as_object().unwrap_or(&empty);
    let root_type = prepared.operation.object_type();
    let root_value = DataObject {
        map: root,
        type_name: root_type.as_str(),
    };
    let result = Execution::new(&supergraph.api_schema, &prepared.document)
        .operation(&prepared.operation)
        .implementers_map(&supergraph.api_implementers)
        .coerced_variable_values(variables)
        .enable_schema_introspection(true)
        .execute_sync(&root_value);
    match result {
        Ok(response) => {
            let subgraph_errors = errors.len();
            for error in response.errors {
                let error = GraphQLError::from_apollo(error, "INTERNAL_SERVER_ERROR");
                if !explained_by(&errors[..subgraph_errors], &error) {
                    errors.push(error);
                }
            }
            GraphQLResponse {
                data: Some(response.data.map_or(JsonValue::Null, JsonValue::Object)),
                errors,
            }
        }
        Err(request_error) => {
            errors.push(GraphQLError::new(
                request_error.message().to_string(),
                "BAD_REQUEST",
            ));
            GraphQLResponse::from_errors(errors)
        }
    }
}

/// A null found where the schema forbids one is explained when a subgraph already reported an
/// error at that place, above it, or without a place (a whole fetch failed).
fn explained_by(subgraph_errors: &[GraphQLError], error: &GraphQLError) -> bool {
    let Some(path) = &error.path else {
        return false;
    };
    subgraph_errors.iter().any(|e| match &e.path {
        None => true,
        Some(prefix) => path.starts_with(prefix) || prefix.starts_with(path),
    })
}

/// An object of the merged data, seen as a GraphQL object of a known type.
struct DataObject<'a> {
    map: &'a JsonMap,
    type_name: &'a str,
}

impl ObjectValue for DataObject<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let key = info.field_selections()[0].response_key();
        let ty = &info.field_definition().ty;
        Ok(match self.map.get(key.as_str()) {
            Some(value) => resolve_value(info.schema(), value, ty),
            None => ResolvedValue::null(),
        })
    }
}

fn resolve_value<'a>(
    schema: &'a Valid<Schema>,
    value: &'a JsonValue,
    ty: &'a Type,
) -> ResolvedValue<'a> {
    match value {
        JsonValue::Null => ResolvedValue::null(),
        JsonValue::Array(items) if ty.is_list() => {
            let item_type = ty.item_type();
            ResolvedValue::list(
                items
                    .iter()
                    .map(move |item| resolve_value(schema, item, item_type)),
            )
        }
        JsonValue::Object(map) if !is_leaf(schema, ty) => {
            let named = ty.inner_named_type();
            let type_name = if schema.get_object(named).is_some() {
                named.as_str()
            } else {
                map.get("__typename")
                    .and_then(JsonValue::as_str)
                    .unwrap_or(named.as_str())
            };
            ResolvedValue::object(DataObject { map, type_name })
        }
        leaf => ResolvedValue::Leaf(leaf.clone()),
    }
}

fn is_leaf(schema: &Schema, ty: &Type) -> bool {
    schema
        .types
        .get(ty.inner_named_type())
        .is_some_and(|t| t.is_leaf())
}
