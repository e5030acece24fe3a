//! The persisted-operation manifest, in Apollo's format:
//! `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "name",
//! "type", "body"}]}` where `id` is the SHA-256 of `body` in lowercase hex. Operations published
//! for partners also have `"partner": true` and the `"scopes"` a partner needs to run them.
//!
//! [`generate`] builds it from a directory of `.graphql` files (one operation each, with its
//! fragments): `<dir>/partner/` holds the partners' operations, whose files may start with a
//! `# scopes: a b` line. [`Manifest::load`] checks every operation against the supergraph and
//! refuses the whole manifest when one is broken.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use apollo_compiler::parser::Parser;
use serde::{Deserialize, Serialize};

use crate::supergraph::Supergraph;

pub const FORMAT: &str = "apollo-persisted-query-manifest";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub format: String,
    pub version: u32,
    pub operations: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partner: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the manifest is not valid JSON of the Apollo format: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the manifest's format is {format:?} version {version}; expected {FORMAT:?} version 1"
    )]
    Format { format: String, version: u32 },
    #[error("operation {name:?}: {reason}")]
    Operation { name: String, reason: String },
}

/// One published operation.
#[derive(Debug)]
pub struct PersistedOperation {
    pub name: String,
    pub body: Arc<str>,
    pub partner: bool,
    pub scopes: Vec<String>,
}

/// A loaded manifest: operations by id.
#[derive(Debug, Default)]
pub struct Manifest {
    operations: HashMap<String, Arc<PersistedOperation>>,
}

impl Manifest {
    /// Parses a manifest and checks every operation: its id is the hash of its body, and the
    /// body parses, is valid against the supergraph's API and holds the named operation of the
    /// stated type. One broken operation refuses the whole manifest.
    pub fn load(text: &str, supergraph: &Supergraph) -> Result<Self, ManifestError> {
        let file: ManifestFile = serde_json::from_str(text)?;
        if file.format != FORMAT || file.version != 1 {
            return Err(ManifestError::Format {
                format: file.format,
                version: file.version,
            });
        }
        let mut operations = HashMap::with_capacity(file.operations.len());
        for entry in file.operations {
            let broken = |reason: String| ManifestError::Operation {
                name: entry.name.clone(),
                reason,
            };
            if entry.id != sha256_hex(&entry.body) {
                return Err(broken(format!(
                    "id {} is not the SHA-256 of its body",
                    entry.id
                )));
            }
            let kind = check_operation(&entry.body, &entry.name, supergraph).map_err(broken)?;
            if kind != entry.kind {
                return Err(broken(format!("it is a {kind}, not a {}", entry.kind)));
            }
            if !entry.partner && !entry.scopes.is_empty() {
                return Err(broken("only partner operations list scopes".into()));
            }
            let operation = PersistedOperation {
                name: entry.name,
                body: entry.body.into(),
                partner: entry.partner,
                scopes: entry.scopes,
            };
            operations.insert(entry.id, Arc::new(operation));
        }
        Ok(Self { operations })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<PersistedOperation>> {
        self.operations.get(id)
    }

    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
}

/// The operation's type (`query`, `mutation`), if `body` holds a valid operation `name`.
fn check_operation(body: &str, name: &str, supergraph: &Supergraph) -> Result<String, String> {
    let document = Parser::new()
        .parse_executable(&supergraph.api_schema, body, "persisted.graphql")
        .map_err(|e| messages(&e.errors))?
        .validate(&supergraph.api_schema)
        .map_err(|e| messages(&e.errors))?;
    let operation = document
        .operations
        .get(Some(name))
        .map_err(|_| format!("the body has no operation named {name:?}"))?;
    Ok(operation.operation_type.name().to_string())
}

fn messages(errors: &apollo_compiler::validation::DiagnosticList) -> String {
    errors
        .iter()
        .map(|d| d.to_json().message)
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn sha256_hex(body: &str) -> String {
    primitives::id::sha256_hex(body.as_bytes())
}

/// The manifest of every operation under `dir` (`storefront/`, `admin/`, `partner/`, ...), in
/// file-name order so that it is the same on every machine.
pub fn generate(dir: &Path) -> Result<ManifestFile, ManifestError> {
    let read_dir = |path: &Path| {
        std::fs::read_dir(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let mut files = Vec::new();
    for client in read_dir(dir)?.flatten() {
        if !client.path().is_dir() {
            continue;
        }
        for file in read_dir(&client.path())?.flatten() {
            if file.path().extension().is_some_and(|e| e == "graphql") {
                files.push(file.path());
            }
        }
    }
    files.sort();
    let mut operations = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let partner = path
            .parent()
            .is_some_and(|p| p.file_name().is_some_and(|n| n == "partner"));
        operations.push(entry(&path, &text, partner)?);
    }
    Ok(ManifestFile {
        format: FORMAT.into(),
        version: 1,
        operations,
    })
}

/// The manifest of `dir` as written to its file, once every operation checked out against
/// the supergraph.
pub fn generate_checked(dir: &Path, supergraph: &Supergraph) -> Result<String, ManifestError> {
    let text = serde_json::to_string_pretty(&generate(dir)?)? + "\n";
    Manifest::load(&text, supergraph)?;
    Ok(text)
}

fn entry(path: &Path, text: &str, partner: bool) -> Result<ManifestEntry, ManifestError> {
    let broken = |reason: &str| ManifestError::Operation {
        name: path.display().to_string(),
        reason: reason.into(),
    };
    let mut scopes = Vec::new();
    let mut body_lines = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("# scopes:") {
            Some(list) if body_lines.is_empty() => {
                scopes.extend(list.split_whitespace().map(str::to_string))
            }
            _ => body_lines.push(line),
        }
    }
    if !partner && !scopes.is_empty() {
        return Err(broken("only partner operations may declare scopes"));
    }
    let body = body_lines.join("\n").trim().to_string();
    let document = apollo_compiler::ast::Document::parse(&body, path)
        .map_err(|e| broken(&messages(&e.errors)))?;
    let mut operations = document
        .definitions
        .iter()
        .filter_map(|d| d.as_operation_definition());
    let (Some(operation), None) = (operations.next(), operations.next()) else {
        return Err(broken("a file holds exactly one operation"));
    };
    let name = operation
        .name
        .as_ref()
        .ok_or_else(|| broken("the operation has no name"))?
        .to_string();
    let kind = operation.operation_type.name();
    let body = if partner {
        body
    } else {
        with_typenames(document).to_string()
    };
    Ok(ManifestEntry {
        id: sha256_hex(&body),
        name,
        kind: kind.into(),
        body,
        partner,
        scopes,
    })
}

/// Our own apps keep their data in a normalized cache, which adds `__typename` to every
/// selection set below the root to key its records. Their manifest bodies carry the same
/// fields, so that an app sending only the id gets the typenames its cache keys on.
fn with_typenames(mut document: apollo_compiler::ast::Document) -> apollo_compiler::ast::Document {
    use apollo_compiler::ast::Definition;
    for definition in &mut document.definitions {
        match definition {
            Definition::OperationDefinition(operation) => {
                for selection in &mut operation.make_mut().selection_set {
                    add_typenames_below(selection);
                }
            }
            Definition::FragmentDefinition(fragment) => {
                add_typename(&mut fragment.make_mut().selection_set)
            }
            _ => {}
        }
    }
    document
}

/// `__typename` in the selection set of `selection` and every one below it.
fn add_typenames_below(selection: &mut apollo_compiler::ast::Selection) {
    use apollo_compiler::ast::Selection;
    match selection {
        Selection::Field(field) if !field.selection_set.is_empty() => {
            add_typename(&mut field.make_mut().selection_set)
        }
        Selection::InlineFragment(fragment) => add_typename(&mut fragment.make_mut().selection_set),
        Selection::Field(_) | Selection::FragmentSpread(_) => {}
    }
}

fn add_typename(selection_set: &mut Vec<apollo_compiler::ast::Selection>) {
    use apollo_compiler::ast::{Field, Selection};
    let has_typename = selection_set.iter().any(|selection| {
        matches!(selection, Selection::Field(field) if field.alias.is_none() && field.name == "__typename")
    });
    if !has_typename {
        selection_set.push(Selection::Field(apollo_compiler::Node::new(Field {
            alias: None,
            name: apollo_compiler::name!("__typename"),
            arguments: Vec::new(),
            directives: Default::default(),
            selection_set: Vec::new(),
        })));
    }
    for selection in selection_set {
        add_typenames_below(selection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = include_str!("../../tests/fixtures/abstract/supergraph.graphql");

    fn manifest_with(entry: serde_json::Value) -> String {
        serde_json::json!({"format": FORMAT, "version": 1, "operations": [entry]}).to_string()
    }

    #[test]
    fn app_operations_carry_typenames_below_the_root_and_partner_operations_stay_as_written() {
        let text = "query Page($id: ID!) {\n  node(id: $id) { id ... on Product { brand { name } } ...Card }\n}\nfragment Card on Product { name }";
        let app = entry(Path::new("storefront/Page.graphql"), text, false).unwrap();
        let reparsed = apollo_compiler::ast::Document::parse(&app.body, "page.graphql").unwrap();
        let printed = reparsed.to_string();
        assert_eq!(printed.matches("__typename").count(), 4, "{printed}");
        assert!(printed.starts_with("query Page($id: ID!) {\n  node(id: $id) {"));
        assert_eq!(app.id, sha256_hex(&app.body));

        let partner = entry(Path::new("partner/Page.graphql"), text, true).unwrap();
        assert_eq!(partner.body, text);
    }

    #[test]
    fn a_broken_operation_refuses_the_whole_manifest_with_its_reason() {
        let supergraph = Supergraph::parse(SUPERGRAPH).unwrap();
        let body = "query Nodes { nodes { id } }";
        let good = serde_json::json!({"id": sha256_hex(body), "name": "Nodes", "type": "query", "body": body});
        let manifest = Manifest::load(&manifest_with(good.clone()), &supergraph).unwrap();
        assert_eq!(manifest.get(&sha256_hex(body)).unwrap().name, "Nodes");

        let cases = [
            (
                serde_json::json!({"id": "abc", "name": "Nodes", "type": "query", "body": body}),
                "not the SHA-256",
            ),
            (
                serde_json::json!({"id": sha256_hex("query Nodes { nope }"), "name": "Nodes", "type": "query", "body": "query Nodes { nope }"}),
                "nope",
            ),
            (
                serde_json::json!({"id": sha256_hex("query Nodes {"), "name": "Nodes", "type": "query", "body": "query Nodes {"}),
                "Nodes",
            ),
            (
                serde_json::json!({"id": sha256_hex(body), "name": "Other", "type": "query", "body": body}),
                "no operation named",
            ),
            (
                serde_json::json!({"id": sha256_hex(body), "name": "Nodes", "type": "mutation", "body": body}),
                "not a mutation",
            ),
        ];
        for (entry, reason) in cases {
            let error = Manifest::load(&manifest_with(entry), &supergraph).unwrap_err();
            assert!(error.to_string().contains(reason), "{error}");
        }
        let error = Manifest::load(
            r#"{"format": "x", "version": 1, "operations": []}"#,
            &supergraph,
        )
        .unwrap_err();
        assert!(matches!(error, ManifestError::Format { .. }));
        assert!(matches!(
            Manifest::load("{", &supergraph).unwrap_err(),
            ManifestError::Json(_)
        ));
    }
}

/// A published operation and its estimated cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationCost {
    pub name: String,
    pub id: String,
    pub estimated: u64,
}

/// Every operation of a manifest with its estimated cost (as demand control estimates it with
/// no variables), costliest first: what to set `demand_control.max_cost` from.
pub fn costs(
    text: &str,
    supergraph: &Supergraph,
    demand: &crate::config::DemandControl,
) -> Result<Vec<OperationCost>, ManifestError> {
    let file: ManifestFile = serde_json::from_str(text)?;
    let preparer = crate::pipeline::prepare::OperationPreparer::new(
        file.operations.len().max(1),
        crate::config::Limits::default(),
        false,
    );
    let mut costs = Vec::with_capacity(file.operations.len());
    for entry in &file.operations {
        let prepared = preparer
            .prepare_operation_with_cache(supergraph, &entry.body, Some(&entry.name))
            .map_err(|e| ManifestError::Operation {
                name: entry.name.clone(),
                reason: e.to_string(),
            })?;
        costs.push(OperationCost {
            name: entry.name.clone(),
            id: entry.id.clone(),
            estimated: crate::pipeline::cost::estimate_cost(
                &supergraph.api_schema,
                &prepared,
                &Default::default(),
                demand,
            ),
        });
    }
    costs.sort_by(|a, b| b.estimated.cmp(&a.estimated).then(a.name.cmp(&b.name)));
    Ok(costs)
}
