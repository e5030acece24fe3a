//! The supergraph as the router sees it: the planner's view (hive-router-query-planner), the API
//! schema clients validate against, the subgraph endpoints and the type relations the executor
//! needs to build entity representations.

use std::collections::{HashMap, HashSet};

use apollo_compiler::collections::HashMap as ApolloHashMap;
use apollo_compiler::schema::{ExtendedType, Implementers};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};
use hive_router_query_planner::planner::{Planner, PlannerError, QueryPlannerOptions};
use hive_router_query_planner::utils::parsing::safe_parse_schema;

#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    #[error("the supergraph is not valid GraphQL: {0}")]
    Invalid(String),
    #[error("the query planner rejected the supergraph: {0}")]
    Planner(#[from] PlannerError),
    #[error("the API schema derived from the supergraph is invalid: {0}")]
    ApiSchema(String),
}

/// Everything derived once from a supergraph SDL.
pub struct Supergraph {
    pub planner: Planner,
    /// The schema clients see: no `join__`/`link__` machinery, nothing `@inaccessible`.
    pub api_schema: Valid<Schema>,
    pub api_implementers: ApolloHashMap<Name, Implementers>,
    /// Subgraph name -> URL from `join__Graph`.
    pub subgraph_urls: HashMap<String, String>,
    /// The whole supergraph, inaccessible parts included (subgraphs may still return them):
    /// type conditions in plans are checked against it.
    pub(crate) full_schema: Schema,
}

impl Supergraph {
    pub fn parse(sdl: &str) -> Result<Self, SupergraphError> {
        let full = Schema::parse(sdl, "supergraph.graphql")
            .map_err(|e| SupergraphError::Invalid(e.errors.to_string()))?;
        let parsed = safe_parse_schema(sdl).map_err(|e| SupergraphError::Invalid(e.to_string()))?;
        let planner = Planner::new_from_supergraph(&parsed, QueryPlannerOptions::default())?;
        let subgraph_urls = planner.supergraph.subgraph_endpoint_map.clone();
        let api_schema = api_schema_of(full.clone())?;
        let api_implementers = api_schema.implementers_map();
        Ok(Self {
            planner,
            api_schema,
            api_implementers,
            subgraph_urls,
            full_schema: full,
        })
    }

    /// Whether an object of `type_name` matches a type condition `condition`. The spec makes
    /// objects name every interface they implement, transitive ones included, so a direct
    /// check suffices.
    pub fn type_matches(&self, condition: &str, type_name: &str) -> bool {
        condition == type_name || self.full_schema.is_subtype(condition, type_name)
    }

    /// Whether `type_name` is an interface (an `@interfaceObject` subgraph names one as the
    /// `__typename` of the objects it returns).
    pub fn is_interface(&self, type_name: &str) -> bool {
        matches!(
            self.full_schema.types.get(type_name),
            Some(ExtendedType::Interface(_))
        )
    }
}

/// Directive and type name prefixes that belong to the federation machinery, not to the API.
const MACHINERY_PREFIXES: &[&str] = &[
    "join__",
    "link__",
    "federation__",
    "inaccessible__",
    "requiresScopes__",
    "policy__",
];
const MACHINERY_DIRECTIVES: &[&str] = &[
    "link",
    "inaccessible",
    "tag",
    "authenticated",
    "requiresScopes",
    "policy",
    "cost",
    "listSize",
    "context",
];

fn is_machinery(name: &str) -> bool {
    MACHINERY_PREFIXES.iter().any(|p| name.starts_with(p)) || MACHINERY_DIRECTIVES.contains(&name)
}

fn is_inaccessible(directives: &apollo_compiler::schema::DirectiveList) -> bool {
    directives.has("inaccessible")
}

fn is_inaccessible_ast(directives: &apollo_compiler::ast::DirectiveList) -> bool {
    directives.has("inaccessible")
}

/// Drops inaccessible fields (and those of removed types) and arguments, and machinery
/// directives from what remains.
fn clean_fields(
    fields: &mut apollo_compiler::collections::IndexMap<
        Name,
        apollo_compiler::schema::Component<apollo_compiler::schema::FieldDefinition>,
    >,
    removed_types: &HashSet<Name>,
) {
    fields.retain(|_, f| {
        !is_inaccessible_ast(&f.directives) && !removed_types.contains(f.ty.inner_named_type())
    });
    for field in fields.values_mut() {
        let field = field.make_mut();
        field.directives.retain(|d| !is_machinery(&d.name));
        field
            .arguments
            .retain(|a| !a.directives.has("inaccessible"));
        for arg in &mut field.arguments {
            arg.make_mut().directives.retain(|d| !is_machinery(&d.name));
        }
    }
}

/// Derives the API schema: removes federation machinery and every `@inaccessible` element.
fn api_schema_of(mut schema: Schema) -> Result<Valid<Schema>, SupergraphError> {
    schema
        .directive_definitions
        .retain(|name, def| def.is_built_in() || !is_machinery(name));
    schema
        .schema_definition
        .make_mut()
        .directives
        .retain(|d| !is_machinery(&d.name));

    let removed_types: HashSet<Name> = schema
        .types
        .iter()
        .filter(|(name, ty)| is_machinery(name) || is_inaccessible(ty.directives()))
        .map(|(name, _)| name.clone())
        .collect();
    schema.types.retain(|name, _| !removed_types.contains(name));

    let keep_directive = |d: &apollo_compiler::schema::Component<
        apollo_compiler::ast::Directive,
    >| { !is_machinery(&d.name) };
    for ty in schema.types.values_mut() {
        match ty {
            ExtendedType::Object(obj) => {
                let obj = obj.make_mut();
                obj.directives.retain(keep_directive);
                obj.implements_interfaces
                    .retain(|i| !removed_types.contains(&i.name));
                clean_fields(&mut obj.fields, &removed_types);
            }
            ExtendedType::Interface(iface) => {
                let iface = iface.make_mut();
                iface.directives.retain(keep_directive);
                iface
                    .implements_interfaces
                    .retain(|i| !removed_types.contains(&i.name));
                clean_fields(&mut iface.fields, &removed_types);
            }
            ExtendedType::Union(union_def) => {
                let union_def = union_def.make_mut();
                union_def.directives.retain(keep_directive);
                union_def
                    .members
                    .retain(|m| !removed_types.contains(&m.name));
            }
            ExtendedType::Enum(enum_def) => {
                let enum_def = enum_def.make_mut();
                enum_def.directives.retain(keep_directive);
                enum_def
                    .values
                    .retain(|_, v| !is_inaccessible_ast(&v.directives));
                for value in enum_def.values.values_mut() {
                    value
                        .make_mut()
                        .directives
                        .retain(|d| !is_machinery(&d.name));
                }
            }
            ExtendedType::InputObject(input) => {
                let input = input.make_mut();
                input.directives.retain(keep_directive);
                input
                    .fields
                    .retain(|_, f| !is_inaccessible_ast(&f.directives));
                for field in input.fields.values_mut() {
                    field
                        .make_mut()
                        .directives
                        .retain(|d| !is_machinery(&d.name));
                }
            }
            ExtendedType::Scalar(scalar) => {
                scalar.make_mut().directives.retain(keep_directive);
            }
        }
    }
    schema
        .validate()
        .map_err(|e| SupergraphError::ApiSchema(e.errors.to_string()))
}
