//! Variable coercion: the request's variables checked and coerced against the operation's
//! variable definitions (defaults filled in), per the GraphQL spec.

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;

use super::prepare::PreparedOperation;
use super::PipelineError;
use crate::graphql_error::{GraphQLError, Location};
use crate::supergraph::Supergraph;

pub fn coerce_variables(
    supergraph: &Supergraph,
    prepared: &PreparedOperation,
    variables: &JsonMap,
) -> Result<Valid<JsonMap>, PipelineError> {
    coerce_variable_values(&supergraph.api_schema, &prepared.operation, variables).map_err(|e| {
        let mut error = GraphQLError::new(e.message().to_string(), "BAD_USER_INPUT");
        if let Some(location) = e
            .location()
            .and_then(|l| l.line_column(&prepared.document.sources))
        {
            error.locations.push(Location {
                line: location.line,
                column: location.column,
            });
        }
        PipelineError::InvalidVariables(Box::new(error))
    })
}
