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
use crate::executor::value::Value;
use crate::graphql_error::GraphQLError;
use crate::supergraph::Supergraph;

/// A response being written: `{"data":<data>` already serialized (absent for request
/// errors) and the errors, which [`GraphQLResponse::into_bytes`] appends in place.
#[derive(Debug)]
pub struct GraphQLResponse {
    /// Starts with [`DATA_PREFIX`].
    data: Option<Vec<u8>>,
    pub errors: Vec<GraphQLError>,
    /// What the data cost by demand control's weights (0 for introspection, which the
    /// estimate does not count either).
    pub actual_cost: u64,
}

const DATA_PREFIX: &[u8] = b"{\"data\":";

impl GraphQLResponse {
    pub fn from_errors(errors: Vec<GraphQLError>) -> Self {
        Self {
            data: None,
            errors,
            actual_cost: 0,
        }
    }

    /// The response body; the data is not copied.
    pub fn into_bytes(self) -> Vec<u8> {
        let has_data = self.data.is_some();
        let mut out = self.data.unwrap_or_else(|| b"{".to_vec());
        if !self.errors.is_empty() {
            if has_data {
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
    data: &Value,
    mut errors: Vec<GraphQLError>,
) -> GraphQLResponse {
    if prepared.introspects {
        // Rare enough (tools, not storefronts) to afford a conversion to apollo's JSON type.
        let data = to_json_value(data);
        return execute_over_data(supergraph, prepared, variables, &data, errors);
    }
    let mut out = Vec::with_capacity(prepared.response_size_hint());
    out.extend_from_slice(DATA_PREFIX);
    let projection = project_data(
        &supergraph.api_schema,
        &prepared.document,
        &prepared.operation,
        variables,
        data,
        out,
    );
    prepared.remember_response_size(projection.out.len());
    add_unexplained(&mut errors, projection.errors);
    GraphQLResponse {
        data: Some(projection.out),
        errors,
        actual_cost: projection.actual_cost,
    }
}

fn to_json_value(data: &Value) -> JsonValue {
    let bytes = serde_json::to_vec(data).expect("values serialize");
    serde_json::from_slice(&bytes).expect("serialized values parse")
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
fn execute_over_data(
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
            let mut out = DATA_PREFIX.to_vec();
            serde_json::to_writer(&mut out, &data).expect("JSON values serialize");
            GraphQLResponse {
                data: Some(out),
                errors,
                actual_cost: 0,
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

#[cfg(test)]
mod tests {
    //! The byte-writing projection and apollo-compiler's spec executor must agree on `data`
    //! and on where errors are, for any operation and any merged data.

    use std::collections::BTreeSet;

    use serde_json_bytes::json;

    use super::*;
    use crate::config::Limits;
    use crate::pipeline::prepare::OperationPreparer;

    const SUPERGRAPH: &str = include_str!("../../tests/fixtures/abstract/supergraph.graphql");

    fn shape_both_ways(query: &str, variables: JsonValue, data: JsonValue) -> [JsonValue; 2] {
        let supergraph = Supergraph::parse(SUPERGRAPH).unwrap();
        let preparer = OperationPreparer::new(8, Limits::default(), true);
        let prepared = preparer
            .prepare_operation_with_cache(&supergraph, query, None)
            .unwrap();
        let variables = apollo_compiler::request::coerce_variable_values(
            &supergraph.api_schema,
            &prepared.operation,
            variables.as_object().unwrap(),
        )
        .unwrap();
        let fast_data: Value = serde_json::from_slice(&serde_json::to_vec(&data).unwrap()).unwrap();
        let fast = shape_response(&supergraph, &prepared, &variables, &fast_data, Vec::new());
        let spec = execute_over_data(&supergraph, &prepared, &variables, &data, Vec::new());
        [fast, spec].map(|r| serde_json::from_slice(&r.into_bytes()).unwrap())
    }

    fn error_paths(response: &JsonValue) -> BTreeSet<String> {
        response["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["path"].to_string()).collect())
            .unwrap_or_default()
    }

    fn assert_agree(query: &str, variables: JsonValue, data: JsonValue) -> JsonValue {
        let [fast, spec] = shape_both_ways(query, variables, data);
        assert_eq!(fast["data"], spec["data"], "data differs for {query}");
        assert_eq!(
            error_paths(&fast),
            error_paths(&spec),
            "errors differ for {query}"
        );
        fast
    }

    fn media_data() -> JsonValue {
        json!({
            "media": [
                {"__typename": "Book", "id": "b1", "title": "Dune", "price": 12},
                {"__typename": "Magazine", "id": "m1", "title": "Wired", "issue": 42}
            ],
            "node": {"__typename": "Book", "id": "b1", "title": "Dune", "price": 12}
        })
    }

    #[test]
    fn fragments_aliases_typename_and_conditions() {
        let query = r#"query Q($all: Boolean!) {
            media {
                kind: __typename
                ... on Book { title cost: price @include(if: $all) }
                ...Mag
            }
            node(id: "b1") { id __typename ... on Book { title @skip(if: $all) } }
        }
        fragment Mag on Magazine { title issue }"#;
        // Merged data is keyed by response key: the plan sends the client's aliases on.
        let mut data = media_data();
        data["media"][0]["cost"] = json!(12);
        for all in [true, false] {
            let response = assert_agree(query, json!({"all": all}), data.clone());
            assert!(response.get("errors").is_none(), "{response:?}");
        }
    }

    #[test]
    fn nulls_propagate_to_the_nearest_nullable_parent() {
        let mut data = media_data();
        data["node"]["title"] = JsonValue::Null;
        let response = assert_agree(
            r#"{ node(id: "b1") { id ... on Book { title } } }"#,
            json!({}),
            data.clone(),
        );
        assert_eq!(response["data"], json!({"node": null}));

        data["media"][1]["title"] = JsonValue::Null;
        let response = assert_agree(
            "{ media { ... on Magazine { title } } node(id: \"b1\") { id } }",
            json!({}),
            data,
        );
        assert_eq!(response["data"], json!(null));
    }

    #[test]
    fn invalid_leaves_and_unknown_runtime_types_become_errors() {
        let mut data = media_data();
        data["node"]["price"] = json!("twelve");
        data["media"][1]["__typename"] = json!("Newspaper");
        let response = assert_agree(
            r#"{ node(id: "b1") { ... on Book { price } } }"#,
            json!({}),
            data.clone(),
        );
        assert_eq!(response["data"], json!({"node": null}));
        let response = assert_agree("{ media { __typename } }", json!({}), data);
        assert_eq!(response["data"], json!(null));
    }

    #[test]
    fn missing_data_is_null() {
        let response = assert_agree(r#"{ node(id: "x") { id } }"#, json!({}), json!({}));
        assert_eq!(response["data"], json!({"node": null}));
    }
}
