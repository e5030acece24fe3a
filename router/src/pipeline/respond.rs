//! Stage 4: shape the merged subgraph data into the client's response.
//!
//! The common path is [`project_data`], which writes the response bytes directly. Operations
//! that ask for introspection (`__schema`, `__type`) are instead executed by apollo-compiler's
//! spec executor over the merged data, where each field resolves to the value stored under its
//! response key and the schema answers the introspection fields. Both follow the GraphQL spec's
//! completion rules, and a test checks that they agree.

use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::Type;
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;

use super::prepare::PreparedOperation;
use super::project::project_data;
use crate::graphql_error::GraphQLError;
use crate::supergraph::Supergraph;

/// A response: `data` already serialized (absent for request errors) and the errors.
#[derive(Debug)]
pub struct GraphQLResponse {
    pub data: Option<Vec<u8>>,
    pub errors: Vec<GraphQLError>,
}

impl GraphQLResponse {
    pub fn from_errors(errors: Vec<GraphQLError>) -> Self {
        Self { data: None, errors }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let data_len = self.data.as_ref().map_or(0, Vec::len);
        let mut out = Vec::with_capacity(data_len + 64);
        out.push(b'{');
        if let Some(data) = &self.data {
            out.extend_from_slice(b"\"data\":");
            out.extend_from_slice(data);
        }
        if !self.errors.is_empty() {
            if self.data.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"errors\":");
            serde_json::to_writer(&mut out, &self.errors).expect("errors serialize");
        }
        out.push(b'}');
        out
    }
}

pub fn shape_response(
    supergraph: &Supergraph,
    prepared: &PreparedOperation,
    variables: &Valid<JsonMap>,
    data: &JsonValue,
    mut errors: Vec<GraphQLError>,
) -> GraphQLResponse {
    let asks_for_schema = prepared
        .operation
        .root_fields(&prepared.document)
        .any(|f| f.name == "__schema" || f.name == "__type");
    if asks_for_schema {
        return execute_over_data(supergraph, prepared, variables, data, errors);
    }
    let projection = project_data(
        &supergraph.api_schema,
        &prepared.document,
        &prepared.operation,
        variables,
        data,
    );
    add_unexplained(&mut errors, projection.errors);
    GraphQLResponse {
        data: Some(projection.data),
        errors,
    }
}

/// Adds the errors completion found, except nulls a subgraph error already accounts for.
fn add_unexplained(errors: &mut Vec<GraphQLError>, found: Vec<GraphQLError>) {
    let subgraph_errors = errors.len();
    for error in found {
        if !explained_by(&errors[..subgraph_errors], &error) {
            errors.push(error);
        }
    }
}

/// Shapes the response with apollo-compiler's executor (used for introspection).
pub fn execute_over_data(
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
            let found = response
                .errors
                .into_iter()
                .map(|e| GraphQLError::from_apollo(e, "INTERNAL_SERVER_ERROR"))
                .collect();
            add_unexplained(&mut errors, found);
            let data = response.data.map_or(JsonValue::Null, JsonValue::Object);
            GraphQLResponse {
                data: Some(serde_json::to_vec(&data).expect("JSON values serialize")),
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
