//! Access control declared in the supergraph: `@authenticated` and `@requiresScopes` on the
//! fields an operation selects and on the types those fields return. Requirements are computed
//! once per prepared operation; each request's verified token is checked against them before any
//! subgraph is called. An operation that asks for anything the caller may not see is refused as a
//! whole (UNAUTHENTICATED without a token, FORBIDDEN with one that lacks a scope).

use std::collections::HashSet;

use apollo_compiler::ast::Directive;
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::ExecutableDocument;
use auth::Viewer;

use super::PipelineError;
use crate::supergraph::Supergraph;

/// What a caller needs to run one operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessRequirements {
    pub authenticated: bool,
    /// Every entry must hold; an entry holds when the caller has all scopes of any one group.
    pub scopes: Vec<Vec<Vec<String>>>,
}

impl AccessRequirements {
    pub fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_empty()
    }

    fn add(&mut self, directive: &Directive) {
        if directive.name == "authenticated" {
            self.authenticated = true;
        }
        if directive.name == "requiresScopes" {
            let Some(value) = directive.specified_argument_by_name("scopes") else {
                return;
            };
            let groups: Vec<Vec<String>> = value
                .as_list()
                .unwrap_or_default()
                .iter()
                .map(|group| {
                    group
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .collect();
            if !self.scopes.contains(&groups) {
                self.scopes.push(groups);
            }
        }
    }
}

/// Collects the requirements of every field the operation can select.
pub fn access_requirements(
    supergraph: &Supergraph,
    document: &ExecutableDocument,
    selection_set: &SelectionSet,
) -> AccessRequirements {
    let mut requirements = AccessRequirements::default();
    let mut seen_fragments = HashSet::new();
    collect(
        supergraph,
        document,
        selection_set,
        &mut requirements,
        &mut seen_fragments,
    );
    requirements
}

fn collect(
    supergraph: &Supergraph,
    document: &ExecutableDocument,
    set: &SelectionSet,
    requirements: &mut AccessRequirements,
    seen_fragments: &mut HashSet<String>,
) {
    let schema = &supergraph.full_schema;
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                if let Ok(definition) = schema.type_field(&set.ty, &field.name) {
                    for directive in definition.directives.iter() {
                        requirements.add(directive);
                    }
                    if let Some(ty) = schema.types.get(definition.ty.inner_named_type()) {
                        for directive in ty.directives().iter() {
                            requirements.add(directive);
                        }
                    }
                }
                collect(
                    supergraph,
                    document,
                    &field.selection_set,
                    requirements,
                    seen_fragments,
                );
            }
            Selection::FragmentSpread(spread) => {
                if seen_fragments.insert(spread.fragment_name.to_string()) {
                    if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                        collect(
                            supergraph,
                            document,
                            &fragment.selection_set,
                            requirements,
                            seen_fragments,
                        );
                    }
                }
            }
            Selection::InlineFragment(inline) => {
                collect(
                    supergraph,
                    document,
                    &inline.selection_set,
                    requirements,
                    seen_fragments,
                );
            }
        }
    }
}

/// Refuses the operation when the caller does not meet its requirements.
pub fn authorize(requirements: &AccessRequirements, viewer: &Viewer) -> Result<(), PipelineError> {
    if requirements.is_empty() {
        return Ok(());
    }
    if viewer.user_id().is_none() {
        return Err(PipelineError::Unauthenticated(
            "this operation requires authentication".into(),
        ));
    }
    let allowed = requirements.scopes.iter().all(|groups| {
        groups
            .iter()
            .any(|group| group.iter().all(|scope| viewer.has_scope(scope)))
    });
    if allowed {
        Ok(())
    } else {
        Err(PipelineError::Forbidden)
    }
}
