//! Demand control: an operation's cost estimated from the schema before anything runs, refused
//! above a maximum.
//!
//! A field that returns an object, interface or union costs 1, a scalar or enum 0, a root
//! mutation field 10, unless the schema gives a weight with `@cost(weight:)`. A list multiplies
//! what it holds by its size: its `first`/`last` argument (or `@listSize(slicingArguments:)`),
//! else `@listSize(assumedSize:)`, else the configured default. A connection's size applies to
//! its `edges` and `nodes` (or `@listSize(sizedFields:)`). Fragments under type conditions count
//! for the runtime type they cost most for (a value has one type), plus whatever applies to
//! every type, so the estimate never falls below what can run.
//!
//! The actual cost of an executed operation uses the same weights over what the response holds:
//! each non-null value of a field adds the field's weight once (a list, once per item), so the
//! two can be compared to set a maximum from data. The projection counts it as it writes the
//! response ([`super::project`]).

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{Field, OperationType, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};

use super::prepare::PreparedOperation;
use super::PipelineError;
use crate::config::DemandControl;

const MUTATION_FIELD_WEIGHT: u64 = 10;
/// A list larger than this is taken as this large (and surely refused).
const LARGEST_LIST: u64 = 1 << 20;

struct Estimator<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: &'a JsonMap,
    default_list_size: u64,
}

/// The operation's estimated cost.
pub fn estimate_cost(
    schema: &Schema,
    prepared: &PreparedOperation,
    variables: &JsonMap,
    config: &DemandControl,
) -> u64 {
    let estimator = Estimator {
        schema,
        document: &prepared.document,
        variables,
        default_list_size: config.default_list_size,
    };
    let root_weight = root_field_weight(prepared.operation_type());
    estimator.selection_set(&prepared.operation.selection_set, None, root_weight, 0)
}

/// The weight of the operation's root fields that have no `@cost`, where it is not the usual
/// one: a mutation's root fields cost 10.
pub fn root_field_weight(operation_type: OperationType) -> Option<u64> {
    operation_type
        .is_mutation()
        .then_some(MUTATION_FIELD_WEIGHT)
}

/// Refuses an operation whose estimate is over the configured maximum (none: refuses none).
pub fn check_cost(estimated: u64, config: &DemandControl) -> Result<(), PipelineError> {
    match config.max_cost {
        Some(max) if estimated > max => Err(PipelineError::CostExceeded { estimated, max }),
        _ => Ok(()),
    }
}

impl Estimator<'_> {
    /// `sized`: the size a parent connection gives its sized fields; `weight`: the weight of
    /// the fields here when the schema gives none (root mutation fields).
    fn selection_set(
        &self,
        set: &SelectionSet,
        sized: Option<(u64, &[String])>,
        weight: Option<u64>,
        depth: usize,
    ) -> u64 {
        // Validation bounds depth; this only guards against recursion through fragments.
        if depth > 256 {
            return 0;
        }
        // Fields and fragments that apply whatever the runtime type is, and those that apply
        // only to some runtime types (by their type condition).
        let mut always = 0u64;
        let mut conditional: Vec<(Name, u64)> = Vec::new();
        let mut add = |condition: &Name, cost: u64| {
            if *condition == set.ty {
                always = always.saturating_add(cost);
            } else {
                conditional.push((condition.clone(), cost));
            }
        };
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => add(&set.ty, self.field(field, sized, weight, depth)),
                Selection::InlineFragment(inline) => add(
                    &inline.selection_set.ty,
                    self.selection_set(&inline.selection_set, sized, weight, depth + 1),
                ),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name) {
                        add(
                            &fragment.selection_set.ty,
                            self.selection_set(&fragment.selection_set, sized, weight, depth + 1),
                        );
                    }
                }
            }
        }
        always.saturating_add(self.costliest_runtime_type(set.ty.as_str(), &conditional))
    }

    /// What the fragments under type conditions cost for the runtime type they cost most for:
    /// one value has one type, so fragments on types that exclude each other never all run.
    fn costliest_runtime_type(&self, parent: &str, conditional: &[(Name, u64)]) -> u64 {
        if conditional.is_empty() {
            return 0;
        }
        let applies = |condition: &str, runtime: &str| {
            condition == runtime || self.schema.is_subtype(condition, runtime)
        };
        let runtime_types: Vec<&str> = match self.schema.types.get(parent) {
            Some(ExtendedType::Object(_)) => vec![parent],
            _ => self
                .schema
                .types
                .iter()
                .filter(|(name, ty)| ty.is_object() && self.schema.is_subtype(parent, name))
                .map(|(name, _)| name.as_str())
                .collect(),
        };
        if runtime_types.is_empty() {
            // No known runtime type: the costliest fragment alone.
            return conditional.iter().map(|(_, cost)| *cost).max().unwrap_or(0);
        }
        runtime_types
            .iter()
            .map(|runtime| {
                conditional
                    .iter()
                    .filter(|(condition, _)| applies(condition.as_str(), runtime))
                    .fold(0u64, |total, (_, cost)| total.saturating_add(*cost))
            })
            .max()
            .unwrap_or(0)
    }

    fn field(
        &self,
        field: &Node<Field>,
        sized: Option<(u64, &[String])>,
        default_weight: Option<u64>,
        depth: usize,
    ) -> u64 {
        if field.name.starts_with("__") {
            return 0;
        }
        let definition = &field.definition;
        let weight = field_weight(self.schema, definition, default_weight);
        let slicing = self.slicing_size(field, definition);
        let sized_fields = list_size_strings(definition, "sizedFields");
        let multiplier = if definition.ty.is_list() {
            let from_parent = sized.and_then(|(size, names)| {
                let named = if names.is_empty() {
                    field.name == "edges" || field.name == "nodes"
                } else {
                    names.iter().any(|n| n == field.name.as_str())
                };
                named.then_some(size)
            });
            slicing
                .or(directive_int(definition, "listSize", "assumedSize"))
                .or(from_parent)
                .unwrap_or(self.default_list_size)
        } else {
            1
        };
        // A connection (not itself a list) hands its size to its sized fields.
        let child_sized = match slicing {
            Some(size) if !definition.ty.is_list() => Some((size, sized_fields.as_slice())),
            _ => None,
        };
        let children = self.selection_set(&field.selection_set, child_sized, None, depth + 1);
        multiplier.saturating_mul(weight.saturating_add(children))
    }

    /// The list size the field's slicing argument asks for, as sent or by default.
    fn slicing_size(&self, field: &Field, definition: &FieldDefinition) -> Option<u64> {
        let mut names = list_size_strings(definition, "slicingArguments");
        if names.is_empty() {
            names = vec!["first".into(), "last".into()];
        }
        names
            .iter()
            .filter_map(|name| {
                let value = field.specified_argument_by_name(name).or_else(|| {
                    definition
                        .argument_by_name(name)
                        .and_then(|a| a.default_value.as_ref())
                })?;
                match value.as_ref() {
                    Value::Int(int) => int.try_to_i32().ok().map(i64::from),
                    Value::Variable(variable) => self
                        .variables
                        .get(variable.as_str())
                        .and_then(|v| v.as_i64()),
                    _ => None,
                }
            })
            .map(|size| (size.max(0) as u64).min(LARGEST_LIST))
            .max()
    }
}

/// What one value of the field costs: `@cost(weight:)`, else `default_weight` (root mutation
/// fields), else 1 for an object, interface or union and 0 for a scalar or enum.
pub fn field_weight(
    schema: &Schema,
    definition: &FieldDefinition,
    default_weight: Option<u64>,
) -> u64 {
    let composite = matches!(
        schema.types.get(definition.ty.inner_named_type()),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    );
    directive_int(definition, "cost", "weight")
        .or(default_weight)
        .unwrap_or(u64::from(composite))
}

/// `@<name>(<argument>: Int)` on the field, also under its federation-prefixed name.
fn directive_int(definition: &FieldDefinition, name: &str, argument: &str) -> Option<u64> {
    directive(definition, name)?
        .specified_argument_by_name(argument)?
        .to_i32()
        .map(|v| v.max(0) as u64)
}

fn list_size_strings(definition: &FieldDefinition, argument: &str) -> Vec<String> {
    directive(definition, "listSize")
        .and_then(|d| d.specified_argument_by_name(argument))
        .and_then(|v| v.as_list())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn directive<'a>(
    definition: &'a FieldDefinition,
    name: &str,
) -> Option<&'a Node<apollo_compiler::ast::Directive>> {
    definition
        .directives
        .get(name)
        .or_else(|| definition.directives.get(&format!("federation__{name}")))
}

/// The response body with the estimated and actual costs in its `extensions` (the body is
/// `{...}` without any).
pub fn with_cost_extension(body: &[u8], estimated: u64, actual: u64, max: Option<u64>) -> Vec<u8> {
    let max = max.map_or_else(|| "null".to_string(), |m| m.to_string());
    let end = body.len().saturating_sub(1);
    debug_assert_eq!(body.get(end), Some(&b'}'));
    let mut out = Vec::with_capacity(body.len() + 80);
    out.extend_from_slice(&body[..end]);
    out.extend_from_slice(
        format!(
            r#","extensions":{{"cost":{{"estimated":{estimated},"actual":{actual},"max":{max}}}}}}}"#
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use apollo_compiler::{ExecutableDocument, Schema};

    use super::*;

    const SDL: &str = "
        type Query { things: [Thing!]! }
        interface Thing { id: ID! detail: Detail }
        type A implements Thing { id: ID! detail: Detail a: Detail }
        type B implements Thing { id: ID! detail: Detail b: Detail }
        type C implements Thing { id: ID! detail: Detail c: Detail }
        type Detail { x: Int more: Detail }
    ";

    fn cost(query: &str) -> u64 {
        let schema = Schema::parse_and_validate(SDL, "schema.graphql").unwrap();
        let document =
            ExecutableDocument::parse_and_validate(&schema, query, "query.graphql").unwrap();
        let operation = document.operations.get(None).unwrap();
        let estimator = Estimator {
            schema: &schema,
            document: &document,
            variables: &JsonMap::new(),
            default_list_size: 10,
        };
        estimator.selection_set(&operation.selection_set, None, None, 0)
    }

    #[test]
    fn an_abstract_field_costs_its_costliest_runtime_type() {
        // 10 things, each 1 plus one Detail: the fragments exclude each other.
        assert_eq!(
            cost("{ things { ... on A { a { x } } ... on B { b { x } } ... on C { c { x } } } }"),
            20
        );
        // Fragments on the same type add up, and so does what every type has.
        assert_eq!(
            cost("{ things { detail { x } ... on A { a { x } } ... on A { a2: a { more { x } } } ... on B { b { x } } } }"),
            10 * (1 + 1 + 1 + 2)
        );
        // A fragment on the interface itself applies to every type.
        assert_eq!(
            cost("{ things { ... on Thing { detail { x } } ... on C { c { x } } } }"),
            30
        );
    }
}
