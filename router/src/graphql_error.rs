//! The error object of a GraphQL response, as the router sends it to clients.

use apollo_compiler::response::{JsonMap, JsonValue};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphQLError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<JsonValue>>,
    #[serde(skip_serializing_if = "JsonMap::is_empty")]
    pub extensions: JsonMap,
}

impl GraphQLError {
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = JsonMap::new();
        extensions.insert("code", JsonValue::from(code));
        Self {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            extensions,
        }
    }

    pub fn with_path(mut self, path: Vec<JsonValue>) -> Self {
        self.path = Some(path);
        self
    }

    pub fn with_extension(mut self, key: &str, value: impl Into<JsonValue>) -> Self {
        self.extensions.insert(key.to_string(), value.into());
        self
    }

    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(|c| c.as_str())
    }

    /// Converts apollo-compiler's error (validation, coercion, execution) adding a code.
    pub fn from_apollo(error: apollo_compiler::response::GraphQLError, code: &str) -> Self {
        let path = (!error.path.is_empty()).then(|| {
            error
                .path
                .iter()
                .map(|segment| match segment {
                    apollo_compiler::response::ResponseDataPathSegment::Field(name) => {
                        JsonValue::from(name.as_str())
                    }
                    apollo_compiler::response::ResponseDataPathSegment::ListIndex(i) => {
                        JsonValue::from(*i)
                    }
                })
                .collect()
        });
        let mut extensions = error.extensions;
        if !extensions.contains_key("code") {
            extensions.insert("code", JsonValue::from(code));
        }
        Self {
            message: error.message,
            locations: error
                .locations
                .into_iter()
                .map(|l| Location {
                    line: l.line,
                    column: l.column,
                })
                .collect(),
            path,
            extensions,
        }
    }
}
