//! Navigation and merging of the response data the fetches build up.

use apollo_compiler::response::JsonValue;

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
    mut value: &'v mut JsonValue,
    path: &[PathElement<'_>],
) -> Option<&'v mut JsonValue> {
    for element in path {
        value = match (element, value) {
            (PathElement::Key(key), JsonValue::Object(map)) => map.get_mut(*key)?,
            (PathElement::Index(i), JsonValue::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Merges `source` into `target`: objects key by key, lists item by item, anything else
/// replaces what was there.
pub fn deep_merge(target: &mut JsonValue, source: JsonValue) {
    match (target, source) {
        (JsonValue::Object(target), JsonValue::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(key.as_str()) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (JsonValue::Array(target), JsonValue::Array(source)) if target.len() == source.len() => {
            for (existing, value) in target.iter_mut().zip(source) {
                deep_merge(existing, value);
            }
        }
        (target, source) => *target = source,
    }
}

pub fn typename_of(value: &JsonValue) -> Option<&str> {
    value.as_object()?.get("__typename")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json_bytes::json;

    #[test]
    fn merge_combines_objects_and_lists_in_place() {
        let mut target = json!({"a": {"x": 1}, "list": [{"id": 1}, {"id": 2}]});
        deep_merge(
            &mut target,
            json!({"a": {"y": 2}, "list": [{"n": "one"}, {"n": "two"}], "b": true}),
        );
        assert_eq!(
            target,
            json!({"a": {"x": 1, "y": 2}, "list": [{"id": 1, "n": "one"}, {"id": 2, "n": "two"}], "b": true})
        );
    }

    #[test]
    fn value_at_mut_follows_keys_and_indexes() {
        let mut data = json!({"a": [{"b": 1}, {"b": 2}]});
        let found = value_at_mut(
            &mut data,
            &[
                PathElement::Key("a"),
                PathElement::Index(1),
                PathElement::Key("b"),
            ],
        );
        assert_eq!(found, Some(&mut json!(2)));
        assert!(value_at_mut(&mut data, &[PathElement::Key("missing")]).is_none());
    }
}
