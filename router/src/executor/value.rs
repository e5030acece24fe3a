//! The data tree execution builds: plain JSON with objects as small ordered vectors.
//!
//! GraphQL response objects have few keys, so a linear scan beats hashing, and a vector costs
//! one allocation where a hash map costs several (and a random seed). Keys and strings are
//! `CompactString`s: up to 24 bytes (nearly every key, id and enum value) they live inline, so
//! parsing and cloning them allocates nothing. This is the router's hottest data structure:
//! every subgraph response is parsed into it, merged, and projected.

use std::fmt;

use compact_str::CompactString;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(CompactString),
    Array(Vec<Value>),
    Object(Object),
}

/// Keys in insertion order; lookups scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object(Vec<(CompactString, Value)>);

impl Object {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, replacing an existing value.
    pub fn insert(&mut self, key: impl Into<CompactString> + AsRef<str>, value: Value) {
        match self.get_mut(key.as_ref()) {
            Some(existing) => *existing = value,
            None => self.0.push((key.into(), value)),
        }
    }

    /// Adds `key`, which the caller knows is absent (saves the scan of [`Object::insert`]).
    pub fn push_absent(&mut self, key: CompactString, value: Value) {
        debug_assert!(!self.contains_key(&key));
        self.0.push((key, value));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    /// The entries, keys as stored (so that copying one does not re-encode it).
    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Object {
    type Item = (CompactString, Value);
    type IntoIter = std::vec::IntoIter<(CompactString, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The `__typename` of an object.
    pub fn typename(&self) -> Option<&str> {
        self.as_object()?.get("__typename")?.as_str()
    }
}

impl Value {
    /// Appends this value as JSON, without serde's per-value machinery: strings escaped with
    /// SIMD, integers formatted with itoa.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(n) => write_number(n, out),
            Value::String(s) => write_json_string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out);
                }
                out.push(b']');
            }
            Value::Object(object) => {
                out.push(b'{');
                for (i, (key, value)) in object.0.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(key, out);
                    out.push(b':');
                    value.write_json(out);
                }
                out.push(b'}');
            }
        }
    }
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    let mut buffer = itoa::Buffer::new();
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(buffer.format(i).as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(buffer.format(u).as_bytes());
    } else {
        serde_json::to_writer(out, n).expect("numbers serialize");
    }
}

/// Appends `s` as a JSON string, escaped with SIMD (sonic-rs).
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    use sonic_rs::format::{CompactFormatter, Formatter};
    CompactFormatter
        .write_string_fast(out, s, true)
        .expect("writing to a vector cannot fail");
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(object) => {
                let mut map = serializer.serialize_map(Some(object.0.len()))?;
                for (k, v) in &object.0 {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(CompactString::new(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(CompactString, Value)> =
            Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some((key, value)) = map.next_entry::<Key, Value>()? {
            let key = key.0;
            // A repeated key keeps its last value, as JSON parsers do.
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(Value::Object(Object(entries)))
    }
}

/// A map key parsed straight into a `CompactString` (inline up to 24 bytes, no allocation).
struct Key(CompactString);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(CompactString::new(v)))
            }

            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(CompactString::from(v)))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json_in_key_order() {
        let text = r#"{"b":1,"a":[true,null,"x",{"c":-2.5}],"z":{}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), text);
        let parsed_fast: Value = sonic_rs::from_str(text).unwrap();
        assert_eq!(parsed_fast, value);
    }

    #[test]
    fn write_json_matches_serde() {
        let text = r#"{"s":"plain","e":"quote \" backslash \\ newline \n tab \t \u0001","n":[0,-7,18446744073709551615,2.5,-1e-7],"b":[true,false,null],"o":{"k\"ey":{}},"u":"ünïcødé ✓"}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let mut written = Vec::new();
        value.write_json(&mut written);
        assert_eq!(
            String::from_utf8(written).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    #[test]
    fn insert_replaces_and_remove_takes() {
        let mut object = Object::new();
        object.insert("a", Value::Bool(true));
        object.insert("a", Value::Null);
        assert_eq!(object.get("a"), Some(&Value::Null));
        assert_eq!(object.remove("a"), Some(Value::Null));
        assert!(!object.contains_key("a"));
    }
}
