//! Paths into the data tree execution builds, and merging subgraph answers into it.

use apollo_compiler::response::JsonValue;

use super::value::Value;

/// One step of a concrete path into the response data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathElement<'a> {
    Key(&'a str),
    Index(usize),
}

pub fn path_to_json(path: &[PathElement<'_>]) -> Vec<JsonValue> {
    path.iter()
        .map(|element| match element {
            PathElement::Key(key) => JsonValue::from(*key),
            PathElement::Index(i) => JsonValue::from(*i),
        })
        .collect()
}

pub fn value_at_mut<'v>(
    mut value: &'v mut Value,
    path: &[PathElement<'_>],
) -> Option<&'v mut Value> {
    for element in path {
        value = match (element, value) {
            (PathElement::Key(key), Value::Object(map)) => map.get_mut(key)?,
            (PathElement::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Merges `source` into `target`: objects key by key, lists item by item, anything else
/// replaces what was there.
pub fn deep_merge(target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            target.reserve(source.len());
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => target.push_absent(key, value),
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(existing, value);
            }
        }
        (target, source) => *target = source,
    }
}

/// Like [`deep_merge`] for a `source` that stays: copies only what `target` lacks.
pub fn deep_merge_copy(target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(target), Value::Object(source)) => {
            target.reserve(source.len());
            for (key, value) in source.iter() {
                match target.get_mut(key) {
                    Some(existing) => deep_merge_copy(existing, value),
                    None => target.push_absent(key.clone(), value.clone()),
                }
            }
        }
        (Value::Array(target), Value::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge_copy(existing, value);
            }
        }
        (target, source) => *target = source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn merge_combines_objects_and_lists_in_place() {
        let mut target = json(r#"{"a": {"x": 1}, "list": [{"id": 1}, {"id": 2}]}"#);
        deep_merge(
            &mut target,
            json(r#"{"a": {"y": 2}, "list": [{"n": "one"}, {"n": "two"}], "b": true}"#),
        );
        assert_eq!(
            target,
            json(
                r#"{"a": {"x": 1, "y": 2}, "list": [{"id": 1, "n": "one"}, {"id": 2, "n": "two"}], "b": true}"#
            )
        );
    }

    #[test]
    fn merging_a_copy_equals_merging_the_value() {
        let target = json(r#"{"a": {"x": 1}, "list": [{"id": 1}, {"id": 2}], "s": "old"}"#);
        let source = json(
            r#"{"a": {"y": [1, {"z": null}]}, "list": [{"n": "one"}, {"n": "two"}], "s": "new"}"#,
        );
        let mut moved = target.clone();
        deep_merge(&mut moved, source.clone());
        let mut copied = target;
        deep_merge_copy(&mut copied, &source);
        assert_eq!(moved, copied);
    }

    #[test]
    fn value_at_mut_follows_keys_and_indexes() {
        let mut data = json(r#"{"a": [{"b": 1}, {"b": 2}]}"#);
        let found = value_at_mut(
            &mut data,
            &[
                PathElement::Key("a"),
                PathElement::Index(1),
                PathElement::Key("b"),
            ],
        );
        assert_eq!(found, Some(&mut json("2")));
        assert!(value_at_mut(&mut data, &[PathElement::Key("missing")]).is_none());
    }
}
