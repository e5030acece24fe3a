//! Projection: writes the client's `data` as JSON bytes straight from the merged subgraph data,
//! following the GraphQL spec's CollectFields and CompleteValue: aliases, fragments and type
//! conditions against the runtime type, `@skip`/`@include`, `__typename`, leaf coercion and
//! null propagation (a null in a non-null place truncates the output back to the nearest
//! nullable parent, which becomes `null`).
//!
//! Field collection is cached per (selection, runtime type) for the request, so a list of a
//! thousand objects collects its fields once. The operation's actual cost (demand control's
//! weights over the values written, see [`super::cost`]) is counted on the way.

use std::rc::Rc;

use apollo_compiler::ast::{DirectiveList, Value as AstValue};
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::schema::{EnumType, ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use rustc_hash::FxHashMap;

use super::cost::{field_weight, root_field_weight};
use crate::executor::merge::{path_to_json, PathElement};
use crate::executor::value::{write_json_string, Object, Value};
use crate::graphql_error::GraphQLError;

/// The value of a non-null place was null: the nearest nullable parent becomes null.
struct PropagateNull;

struct CollectedField<'a> {
    response_key: &'a str,
    /// `"responseKey":`, ready to write (response keys are GraphQL names: nothing to escape).
    key_prefix: Box<[u8]>,
    fields: Vec<&'a Field>,
    /// The field's named type, looked up once here instead of once per value.
    kind: NamedKind<'a>,
    /// What each non-null value of the field adds to the actual cost.
    weight: u64,
}

/// What a field's named type is, for completing its values.
#[derive(Clone, Copy)]
enum NamedKind<'a> {
    Object(&'a str),
    Abstract(&'a str),
    Enum(&'a EnumType),
    Scalar(ScalarKind, &'a str),
    /// Not in the API schema: the value cannot be completed.
    Unknown,
}

#[derive(Clone, Copy, PartialEq)]
enum ScalarKind {
    Int,
    Float,
    Boolean,
    String,
    Id,
    /// Custom scalars pass through as they are.
    Custom,
}

impl<'a> NamedKind<'a> {
    fn of(schema: &'a Schema, ty: &Type) -> Self {
        let Some((name, definition)) = schema.types.get_key_value(ty.inner_named_type()) else {
            return NamedKind::Unknown;
        };
        let name = name.as_str();
        match definition {
            ExtendedType::Object(_) => NamedKind::Object(name),
            ExtendedType::Interface(_) | ExtendedType::Union(_) => NamedKind::Abstract(name),
            ExtendedType::Enum(enum_type) => NamedKind::Enum(enum_type),
            ExtendedType::Scalar(_) => {
                let kind = match name {
                    "Int" => ScalarKind::Int,
                    "Float" => ScalarKind::Float,
                    "Boolean" => ScalarKind::Boolean,
                    "String" => ScalarKind::String,
                    "ID" => ScalarKind::Id,
                    _ => ScalarKind::Custom,
                };
                NamedKind::Scalar(kind, name)
            }
            ExtendedType::InputObject(_) => NamedKind::Unknown,
        }
    }
}

type Collected<'a> = Rc<[CollectedField<'a>]>;

pub struct Projection {
    /// `out` as it was given, followed by the JSON of `data` (an object, or `null` when a null
    /// reached the root).
    pub out: Vec<u8>,
    pub errors: Vec<GraphQLError>,
    /// The actual cost: each non-null value's field weight (a list's, once per item).
    pub actual_cost: u64,
}

pub fn project_data(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &JsonMap,
    data: &Value,
    out: Vec<u8>,
) -> Projection {
    let start = out.len();
    let mut projector = Projector {
        schema,
        document,
        variables,
        out,
        errors: Vec::new(),
        path: Vec::new(),
        collected: FxHashMap::default(),
        root_weight: root_field_weight(operation.operation_type),
        actual_cost: 0,
    };
    let empty = Object::new();
    let root = data.as_object().unwrap_or(&empty);
    let root_type = operation.object_type().as_str();
    let fields = projector.collect_root(root_type, &operation.selection_set);
    if projector.complete_object(root_type, root, &fields).is_err() {
        projector.out.truncate(start);
        projector.out.extend_from_slice(b"null");
    }
    Projection {
        out: projector.out,
        errors: projector.errors,
        actual_cost: projector.actual_cost,
    }
}

struct Projector<'a> {
    schema: &'a Schema,
    document: &'a ExecutableDocument,
    variables: &'a JsonMap,
    out: Vec<u8>,
    errors: Vec<GraphQLError>,
    path: Vec<PathElement<'a>>,
    /// (first field of the parent group, runtime type) -> the fields to complete.
    collected: FxHashMap<(usize, usize), Collected<'a>>,
    /// The weight of root fields without `@cost` (mutation fields).
    root_weight: Option<u64>,
    actual_cost: u64,
}

impl<'a> Projector<'a> {
    fn collect_root(&mut self, type_name: &str, selection_set: &'a SelectionSet) -> Collected<'a> {
        let mut grouped: Vec<CollectedField<'a>> = Vec::new();
        self.collect_fields(type_name, selection_set, &mut grouped, self.root_weight);
        grouped.into()
    }

    /// The merged sub-selection of a field group, for one runtime object type.
    fn collect_sub(&mut self, type_name: &'a str, fields: &[&'a Field]) -> Collected<'a> {
        let key = (
            fields[0] as *const Field as usize,
            type_name.as_ptr() as usize,
        );
        if let Some(found) = self.collected.get(&key) {
            return found.clone();
        }
        let mut grouped: Vec<CollectedField<'a>> = Vec::new();
        for field in fields {
            self.collect_fields(type_name, &field.selection_set, &mut grouped, None);
        }
        let grouped: Collected<'a> = grouped.into();
        self.collected.insert(key, grouped.clone());
        grouped
    }

    /// `default_weight`: the weight of fields without `@cost` where it is not the usual one
    /// (root mutation fields).
    fn collect_fields(
        &self,
        type_name: &str,
        selection_set: &'a SelectionSet,
        grouped: &mut Vec<CollectedField<'a>>,
        default_weight: Option<u64>,
    ) {
        for selection in &selection_set.selections {
            match selection {
                Selection::Field(field) => {
                    if self.is_skipped(&field.directives) {
                        continue;
                    }
                    let key = field.response_key().as_str();
                    match grouped.iter_mut().find(|g| g.response_key == key) {
                        Some(group) => group.fields.push(field),
                        None => grouped.push(CollectedField {
                            response_key: key,
                            key_prefix: format!("\"{key}\":").into_bytes().into(),
                            fields: vec![field],
                            kind: NamedKind::of(self.schema, &field.definition.ty),
                            weight: if field.name.starts_with("__") {
                                0
                            } else {
                                field_weight(self.schema, &field.definition, default_weight)
                            },
                        }),
                    }
                }
                Selection::InlineFragment(inline) => {
                    if self.is_skipped(&inline.directives) {
                        continue;
                    }
                    let applies = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|condition| self.applies(condition, type_name));
                    if applies {
                        self.collect_fields(
                            type_name,
                            &inline.selection_set,
                            grouped,
                            default_weight,
                        );
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if self.is_skipped(&spread.directives) {
                        continue;
                    }
                    // Validation rejects cycles, so recursion through spreads ends.
                    if let Some(fragment) = self.document.fragments.get(&spread.fragment_name) {
                        if self.applies(fragment.type_condition(), type_name) {
                            self.collect_fields(
                                type_name,
                                &fragment.selection_set,
                                grouped,
                                default_weight,
                            );
                        }
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, type_name: &str) -> bool {
        condition == type_name || self.schema.is_subtype(condition, type_name)
    }

    fn is_skipped(&self, directives: &DirectiveList) -> bool {
        let flag = |name: &str| {
            let argument = directives.get(name)?.specified_argument_by_name("if")?;
            match argument.as_ref() {
                AstValue::Boolean(b) => Some(*b),
                AstValue::Variable(var) => self.variables.get(var.as_str())?.as_bool(),
                _ => None,
            }
        };
        flag("skip") == Some(true) || flag("include") == Some(false)
    }

    fn complete_object(
        &mut self,
        type_name: &'a str,
        object: &'a Object,
        fields: &Collected<'a>,
    ) -> Result<(), PropagateNull> {
        self.out.push(b'{');
        for (i, group) in fields.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&group.key_prefix);
            let field = group.fields[0];
            if field.name == "__typename" {
                write_json_string(type_name, &mut self.out);
                continue;
            }
            self.path.push(PathElement::Key(group.response_key));
            let value = object.get(group.response_key).unwrap_or(&Value::Null);
            if group.weight > 0 {
                self.actual_cost = self
                    .actual_cost
                    .saturating_add(group.weight.saturating_mul(non_null_values(value)));
            }
            let result =
                self.complete_value(&field.definition.ty, group.kind, value, &group.fields);
            if result.is_err() && field.definition.ty.is_non_null() && value.is_null() {
                let message = format!(
                    "Cannot return null for non-nullable field {type_name}.{}",
                    field.name
                );
                self.field_error(message);
            }
            self.path.pop();
            result?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes `value` as `ty`; on a null in a non-null place, truncates what it wrote and
    /// either writes `null` (nullable `ty`) or propagates.
    fn complete_value(
        &mut self,
        ty: &'a Type,
        kind: NamedKind<'a>,
        value: &'a Value,
        fields: &[&'a Field],
    ) -> Result<(), PropagateNull> {
        let start = self.out.len();
        let outcome = self.write_value(ty, kind, value, fields);
        if outcome.is_ok() {
            return Ok(());
        }
        self.out.truncate(start);
        if ty.is_non_null() {
            Err(PropagateNull)
        } else {
            self.out.extend_from_slice(b"null");
            Ok(())
        }
    }

    fn write_value(
        &mut self,
        ty: &'a Type,
        kind: NamedKind<'a>,
        value: &'a Value,
        fields: &[&'a Field],
    ) -> Result<(), PropagateNull> {
        if value.is_null() {
            if ty.is_non_null() {
                return Err(PropagateNull);
            }
            self.out.extend_from_slice(b"null");
            return Ok(());
        }
        match ty {
            Type::List(item_type) | Type::NonNullList(item_type) => {
                let Some(items) = value.as_array() else {
                    self.invalid_value(format!("Expected a list for {ty}"));
                    return Err(PropagateNull);
                };
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(PathElement::Index(i));
                    let result = self.complete_value(item_type, kind, item, fields);
                    if result.is_err() && item.is_null() {
                        self.field_error(format!(
                            "Cannot return null for non-nullable list item of type {item_type}"
                        ));
                    }
                    self.path.pop();
                    result?;
                }
                self.out.push(b']');
                Ok(())
            }
            Type::Named(_) | Type::NonNullNamed(_) => match kind {
                NamedKind::Object(name) => {
                    let Some(object) = value.as_object() else {
                        self.invalid_value(format!("Expected an object for {name}"));
                        return Err(PropagateNull);
                    };
                    let collected = self.collect_sub(name, fields);
                    self.complete_object(name, object, &collected)
                }
                NamedKind::Abstract(name) => self.complete_abstract(name, value, fields),
                NamedKind::Enum(_) | NamedKind::Scalar(..) => self.write_leaf(kind, value),
                NamedKind::Unknown => Err(PropagateNull),
            },
        }
    }

    /// Completes a value of an interface or union type. The runtime type comes from the data's
    /// `__typename`. The planner only fetches `__typename` when the selection needs to tell
    /// types apart, and an `@interfaceObject` subgraph names the interface itself there; in
    /// both cases the value is completed with the fields the selection asks of the abstract
    /// type (or of the interface the subgraph named), which are the same for every runtime type.
    fn complete_abstract(
        &mut self,
        abstract_type: &'a str,
        value: &'a Value,
        fields: &[&'a Field],
    ) -> Result<(), PropagateNull> {
        let Some(object) = value.as_object() else {
            self.invalid_value(format!("Expected an object for {abstract_type}"));
            return Err(PropagateNull);
        };
        let typename = object.get("__typename").and_then(Value::as_str);
        let (runtime, concrete) = match self.runtime_type(abstract_type, typename) {
            Ok(resolved) => resolved,
            Err(typename) => {
                self.invalid_value(format!(
                    "Abstract type {abstract_type} resolved to {typename}, which is not a possible type"
                ));
                return Err(PropagateNull);
            }
        };
        let collected = self.collect_sub(runtime, fields);
        if !concrete && collected.iter().any(|g| g.fields[0].name == "__typename") {
            self.field_error(format!(
                "The runtime type of {abstract_type} is unknown: the data has no object type name"
            ));
            return Err(PropagateNull);
        }
        self.complete_object(runtime, object, &collected)
    }

    /// The type to collect fields for, borrowed from the schema so that it can key the field
    /// cache, and whether it is an object type. `Err` carries a `__typename` that names no
    /// possible type of `abstract_type`.
    fn runtime_type<'t>(
        &self,
        abstract_type: &'a str,
        typename: Option<&'t str>,
    ) -> Result<(&'a str, bool), &'t str> {
        let schema = self.schema;
        let Some(typename) = typename else {
            return Ok((abstract_type, false));
        };
        let Some((name, ty)) = schema.types.get_key_value(typename) else {
            return Err(typename);
        };
        let possible = name == abstract_type || schema.is_subtype(abstract_type, typename);
        match ty {
            ExtendedType::Object(_) if possible => Ok((name.as_str(), true)),
            // An `@interfaceObject` subgraph answers with the interface's own name.
            ExtendedType::Interface(_) if possible => Ok((name.as_str(), false)),
            _ => Err(typename),
        }
    }

    fn write_leaf(&mut self, kind: NamedKind<'a>, value: &Value) -> Result<(), PropagateNull> {
        let (valid, type_name) = match kind {
            NamedKind::Enum(enum_type) => (
                value
                    .as_str()
                    .is_some_and(|v| enum_type.values.contains_key(v)),
                enum_type.name.as_str(),
            ),
            NamedKind::Scalar(scalar, name) => {
                let valid = match scalar {
                    ScalarKind::Int => value.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
                    ScalarKind::Float => matches!(value, Value::Number(_)),
                    ScalarKind::Boolean => matches!(value, Value::Bool(_)),
                    ScalarKind::String => matches!(value, Value::String(_)),
                    ScalarKind::Id => {
                        if let Some(n) = value.as_i64() {
                            // IDs are serialized as strings.
                            write_json_string(&n.to_string(), &mut self.out);
                            return Ok(());
                        }
                        matches!(value, Value::String(_))
                    }
                    ScalarKind::Custom => true,
                };
                (valid, name)
            }
            _ => (false, "a leaf type"),
        };
        if !valid {
            self.invalid_value(format!(
                "Invalid value {} for type {type_name}",
                abbreviate(value)
            ));
            return Err(PropagateNull);
        }
        value.write_json(&mut self.out);
        Ok(())
    }

    fn field_error(&mut self, message: String) {
        self.errors.push(
            GraphQLError::new(message, "INTERNAL_SERVER_ERROR").with_path(path_to_json(&self.path)),
        );
    }

    /// A subgraph answered with a value the API schema does not allow (an enum value it does
    /// not have, an impossible runtime type, a wrong shape): the subgraph and the supergraph
    /// disagree, which an operator must hear about by its own code.
    fn invalid_value(&mut self, message: String) {
        self.errors.push(
            GraphQLError::new(message, INVALID_SUBGRAPH_VALUE).with_path(path_to_json(&self.path)),
        );
    }
}

/// How many values `value` holds for its field: items of (nested) lists, none for null.
fn non_null_values(value: &Value) -> u64 {
    match value {
        Value::Null => 0,
        Value::Array(items) => items.iter().map(non_null_values).sum(),
        _ => 1,
    }
}

/// The code of a subgraph value outside the API schema.
pub const INVALID_SUBGRAPH_VALUE: &str = "INVALID_SUBGRAPH_VALUE";

fn abbreviate(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    if text.len() > 40 {
        format!("{}...", &text[..text.floor_char_boundary(40)])
    } else {
        text
    }
}
