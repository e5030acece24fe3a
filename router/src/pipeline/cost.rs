//! Demand control: an operation's cost estimated from the schema before anything runs, refused
//! above a maximum.
//!
//! A field that returns an object, interface or union costs 1, a scalar or enum 0, a root
//! mutation field 10, unless the schema gives a weight with `@cost(weight:)`. A list multiplies
//! what it holds by its size: its `first`/`last` argument (or `@listSize(slicingArguments:)`),
//! else `@listSize(assumedSize:)`, else the configured default. A connection's size applies to
//! its `edges` and `nodes` (or `@listSize(sizedFields:)`). Fragments on different types are all
//! counted, so the estimate never falls below what can run.

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{ExecutableDocument, Node, Schema};

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
    let root_weight = prepared
        .operation_type()
        .is_mutation()
        .then_some(MUTATION_FIELD_WEIGHT);
    estimator.selection_set(&prepared.operation.selection_set, None, root_weight, 0)
}

/// Refuses an operation whose estimate is over the maximum.
pub fn check_cost(estimated: u64, config: &DemandControl) -> Result<(), PipelineError> {
    if estimated > config.max_cost {
        return Err(PipelineError::CostExceeded {
            estimated,
            max: config.max_cost,
        });
    }
    Ok(())
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
        set.selections.iter().fold(0u64, |total, selection| {
            let cost = match selection {
                Selection::Field(field) => self.field(field, sized, weight, depth),
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.selection_set, sized, weight, depth + 1)
                }
                Selection::FragmentSpread(spread) => self
                    .document
                    .fragments
                    .get(&spread.fragment_name)
                    .map_or(0, |f| {
                        self.selection_set(&f.selection_set, sized, weight, depth + 1)
                    }),
            };
            total.saturating_add(cost)
        })
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
        let composite = matches!(
            self.schema.types.get(definition.ty.inner_named_type()),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        let weight = directive_int(definition, "cost", "weight")
            .or(default_weight)
            .unwrap_or(u64::from(composite));
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

/// The response body with the estimate in its `extensions` (the body is `{...}` without any).
pub fn with_cost_extension(body: &[u8], estimated: u64, max: u64) -> Vec<u8> {
    let end = body.len().saturating_sub(1);
    debug_assert_eq!(body.get(end), Some(&b'}'));
    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(&body[..end]);
    out.extend_from_slice(
        format!(r#","extensions":{{"cost":{{"estimated":{estimated},"max":{max}}}}}}}"#).as_bytes(),
    );
    out
}
