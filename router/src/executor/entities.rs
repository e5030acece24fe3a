//! Entity calls: find the entities a Flatten node points at, build their representations from
//! the fetch's `requires` selection, apply the plan's rewrites, and deduplicate.

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment,
};
use indexmap::IndexSet;

use super::merge::PathElement;
use super::value::{write_json_string, Object, Value};
use crate::supergraph::Supergraph;

/// Distinct serialized representations in the order first seen.
pub type Representations = IndexSet<Vec<u8>, rustc_hash::FxBuildHasher>;

/// One `_entities` selection of a subgraph request: which entities it is for and how to build
/// and read back their representations. A Flatten(Fetch) has one; a BatchFetch one per alias.
pub struct EntityCall<'p> {
    /// Response key of the `_entities` field in the subgraph's answer.
    pub response_key: &'p str,
    /// Variable that carries the representations.
    pub variable: &'p str,
    pub paths: Vec<&'p [FlattenNodePathSegment]>,
    pub requires: &'p SelectionSet,
    pub input_rewrites: Option<&'p [FetchRewrite]>,
    pub output_rewrites: Option<&'p [FetchRewrite]>,
}

/// The entities found under a Flatten path, and the deduplicated representations to send.
pub struct EntityBatch<'p> {
    /// Where each entity stands in the response: the paths of all entities, one after another
    /// in one buffer (one allocation for the batch, not one per entity).
    path_elements: Vec<PathElement<'p>>,
    /// For each entity: where its path ends in `path_elements`, and which representation
    /// stands for it.
    entities: Vec<(usize, usize)>,
    /// Each distinct representation serialized once; the request body embeds them as they are.
    pub representations: Representations,
}

impl<'p> EntityBatch<'p> {
    /// Each entity's path in the response and the index of its representation.
    pub fn entities(&self) -> impl Iterator<Item = (&[PathElement<'p>], usize)> + '_ {
        let mut start = 0;
        self.entities.iter().map(move |&(end, index)| {
            let path = &self.path_elements[start..end];
            start = end;
            (path, index)
        })
    }
}

pub fn collect_entity_batch<'p>(
    data: &Value,
    flatten_paths: &[&'p [FlattenNodePathSegment]],
    requires: &SelectionSet,
    input_rewrites: Option<&[FetchRewrite]>,
    supergraph: &Supergraph,
) -> EntityBatch<'p> {
    let mut batch = EntityBatch {
        path_elements: Vec::new(),
        entities: Vec::new(),
        representations: Representations::default(),
    };
    // Most representations are written straight from the data; the plan's rewrites and
    // selections that name a key twice (to be merged) go through an intermediate object.
    let direct = input_rewrites.is_none_or(<[_]>::is_empty) && !repeats_keys(requires);
    let mut scratch = Vec::with_capacity(64);
    let mut add = |path: &[PathElement<'p>], entity: &Object| {
        scratch.clear();
        let written = if direct {
            write_representation(entity, requires, supergraph, &mut scratch)
        } else {
            build_representation(entity, requires, input_rewrites, supergraph, &mut scratch)
        };
        if written.is_none() {
            return;
        }
        let index = match batch.representations.get_index_of(scratch.as_slice()) {
            Some(index) => index,
            None => batch.representations.insert_full(scratch.clone()).0,
        };
        batch.path_elements.extend_from_slice(path);
        batch.entities.push((batch.path_elements.len(), index));
    };
    let mut current = Vec::new();
    for path in flatten_paths {
        find_entities(data, path, supergraph, &mut current, &mut add);
    }
    batch
}

/// Calls `found` with the path and object of every entity `path` leads to.
fn find_entities<'d, 'p>(
    value: &'d Value,
    path: &'p [FlattenNodePathSegment],
    supergraph: &Supergraph,
    current: &mut Vec<PathElement<'p>>,
    found: &mut dyn FnMut(&[PathElement<'p>], &'d Object),
) {
    match (path.first(), value) {
        (_, Value::Array(items)) => {
            // Lists are walked whether or not the plan marks them with `@`.
            let rest = match path.first() {
                Some(FlattenNodePathSegment::List) => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                current.push(PathElement::Index(i));
                find_entities(item, rest, supergraph, current, found);
                current.pop();
            }
        }
        (None, Value::Object(map)) => found(current, map),
        (Some(FlattenNodePathSegment::Field(key)), Value::Object(map)) => {
            if let Some(child) = map.get(key) {
                current.push(PathElement::Key(key));
                find_entities(child, &path[1..], supergraph, current, found);
                current.pop();
            }
        }
        (Some(FlattenNodePathSegment::TypeCondition(types)), Value::Object(_)) => {
            let matches = value
                .typename()
                .is_some_and(|t| types.iter().any(|cond| supergraph.type_matches(cond, t)));
            if matches {
                find_entities(value, &path[1..], supergraph, current, found);
            }
        }
        (Some(FlattenNodePathSegment::List), Value::Object(_)) => {
            find_entities(value, &path[1..], supergraph, current, found)
        }
        _ => {}
    }
}

/// Writes the representation of `entity` as JSON into `out`. `None` when a selected field is
/// missing or there is no `__typename`: such an entity cannot be identified and is not sent.
fn write_representation(
    entity: &Object,
    requires: &SelectionSet,
    sg: &Supergraph,
    out: &mut Vec<u8>,
) -> Option<()> {
    out.push(b'{');
    let mut first = true;
    let has_typename = write_fields(entity, requires, sg, out, &mut first)?;
    out.push(b'}');
    has_typename.then_some(())
}

/// Writes the selected fields of `object` (without braces); `Some(true)` when `__typename`
/// was one of them.
fn write_fields(
    object: &Object,
    selections: &SelectionSet,
    sg: &Supergraph,
    out: &mut Vec<u8>,
    first: &mut bool,
) -> Option<bool> {
    let typename = object.get("__typename").and_then(Value::as_str);
    let mut has_typename = false;
    for item in &selections.items {
        match item {
            SelectionItem::Field(field) => {
                // `name`: where the value sits in the data; `alias`: the key to send.
                let value = object.get(field.name.as_str())?;
                let key = field.alias.as_deref().unwrap_or(&field.name);
                if !std::mem::take(first) {
                    out.push(b',');
                }
                write_json_string(key, out);
                out.push(b':');
                if field.selections.is_empty() {
                    value.write_json(out);
                } else {
                    write_value(value, &field.selections, sg, out)?;
                }
                has_typename |= key == "__typename";
            }
            SelectionItem::InlineFragment(fragment) => {
                if typename.is_some_and(|t| sg.type_matches(&fragment.type_condition, t)) {
                    has_typename |= write_fields(object, &fragment.selections, sg, out, first)?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(has_typename)
}

fn write_value(
    value: &Value,
    selections: &SelectionSet,
    sg: &Supergraph,
    out: &mut Vec<u8>,
) -> Option<()> {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            write_fields(map, selections, sg, out, &mut true)?;
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, selections, sg, out)?;
            }
            out.push(b']');
        }
        other => other.write_json(out),
    }
    Some(())
}

/// Whether a selection names some key twice at one level (counting inline fragments), so
/// that the values must be merged before the representation is written.
fn repeats_keys(selections: &SelectionSet) -> bool {
    fn collect<'s>(selections: &'s SelectionSet, keys: &mut Vec<&'s str>) -> bool {
        for item in &selections.items {
            match item {
                SelectionItem::Field(field) => {
                    let key = field.alias.as_deref().unwrap_or(&field.name);
                    if keys.contains(&key) || repeats_keys(&field.selections) {
                        return true;
                    }
                    keys.push(key);
                }
                SelectionItem::InlineFragment(fragment) => {
                    if collect(&fragment.selections, keys) {
                        return true;
                    }
                }
                SelectionItem::FragmentSpread(_) => {}
            }
        }
        false
    }
    collect(selections, &mut Vec::new())
}

/// Builds the representation as an object (merging repeated keys), applies the rewrites and
/// serializes it into `out`. `None` as for [`write_representation`].
fn build_representation(
    entity: &Object,
    requires: &SelectionSet,
    input_rewrites: Option<&[FetchRewrite]>,
    sg: &Supergraph,
    out: &mut Vec<u8>,
) -> Option<()> {
    let representation = project_object(entity, requires, sg)?;
    if !representation.contains_key("__typename") {
        return None;
    }
    let mut representation = Value::Object(representation);
    apply_rewrites(&mut representation, input_rewrites, sg);
    representation.write_json(out);
    Some(())
}

/// Projects an object through a selection set. `None` when a selected field is missing:
/// such an entity cannot be identified and is not sent.
fn project_object(object: &Object, selections: &SelectionSet, sg: &Supergraph) -> Option<Object> {
    let mut out = Object::new();
    project_into(object, selections, sg, &mut out)?;
    Some(out)
}

fn project_into(
    object: &Object,
    selections: &SelectionSet,
    sg: &Supergraph,
    out: &mut Object,
) -> Option<()> {
    let typename = object.get("__typename").and_then(Value::as_str);
    for item in &selections.items {
        match item {
            SelectionItem::Field(field) => {
                // In `requires`, `name` is where the value sits in the data (possibly an
                // internal alias the plan fetched it under) and `alias`, when present, is the
                // field name the subgraph expects in the representation.
                let value = object.get(field.name.as_str())?;
                let projected = if field.selections.is_empty() {
                    value.clone()
                } else {
                    project_value(value, &field.selections, sg)?
                };
                let key = field.alias.as_deref().unwrap_or(&field.name);
                match out.get_mut(key) {
                    Some(existing) => super::merge::deep_merge(existing, projected),
                    None => {
                        out.insert(key, projected);
                    }
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                if typename.is_some_and(|t| sg.type_matches(&fragment.type_condition, t)) {
                    project_into(object, &fragment.selections, sg, out)?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(())
}

fn project_value(value: &Value, selections: &SelectionSet, sg: &Supergraph) -> Option<Value> {
    match value {
        Value::Object(map) => project_object(map, selections, sg).map(Value::Object),
        Value::Array(items) => items
            .iter()
            .map(|item| project_value(item, selections, sg))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

/// Applies a fetch's input or output rewrites, in order.
pub fn apply_rewrites(value: &mut Value, rewrites: Option<&[FetchRewrite]>, sg: &Supergraph) {
    for rewrite in rewrites.unwrap_or_default() {
        apply_rewrite(value, rewrite, sg);
    }
}

/// Applies one of the plan's input or output rewrites to a value (lists are walked).
fn apply_rewrite(value: &mut Value, rewrite: &FetchRewrite, sg: &Supergraph) {
    match rewrite {
        FetchRewrite::ValueSetter(setter) => {
            apply_at_path(value, &setter.path, sg, &mut |map, key| {
                map.insert(key, Value::String(setter.set_value_to.as_str().into()));
            })
        }
        FetchRewrite::KeyRenamer(renamer) => {
            apply_at_path(value, &renamer.path, sg, &mut |map, key| {
                if let Some(v) = map.remove(key) {
                    map.insert(renamer.rename_key_to.as_str(), v);
                }
            })
        }
    }
}

fn apply_at_path(
    value: &mut Value,
    path: &[FetchNodePathSegment],
    sg: &Supergraph,
    action: &mut dyn FnMut(&mut Object, &str),
) {
    if let Value::Array(items) = value {
        for item in items {
            apply_at_path(item, path, sg, action);
        }
        return;
    }
    let Some(first) = path.first() else { return };
    match first {
        FetchNodePathSegment::TypenameEquals(types) => {
            let matches = value
                .typename()
                .is_some_and(|t| types.iter().any(|cond| sg.type_matches(cond, t)));
            if matches {
                apply_at_path(value, &path[1..], sg, action);
            }
        }
        FetchNodePathSegment::Key(key) => {
            let Value::Object(map) = value else {
                return;
            };
            if path.len() == 1 {
                action(map, key);
            } else if let Some(child) = map.get_mut(key) {
                apply_at_path(child, &path[1..], sg, action);
            }
        }
    }
}
