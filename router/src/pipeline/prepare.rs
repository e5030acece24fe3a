//! Stage 2: parse, validate against the API schema, check operation limits and plan.
//! The result depends only on the operation text and name, so it is cached (bounded), and
//! identical requests that miss the cache together wait for one preparation: a new operation
//! sent by many clients at once (a deploy of the storefront, the router's start) is planned
//! once, not once per request on as many blocking threads.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apollo_compiler::executable::{Operation, OperationType};
use apollo_compiler::parser::Parser;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use hive_router_query_planner::planner::PlannerError;
use hive_router_query_planner::utils::cancellation::CancellationToken;
use quick_cache::sync::Cache;
use quick_cache::Equivalent;

use super::limits::check_limits;
use super::PipelineError;
use crate::config::Limits;
use crate::graphql_error::GraphQLError;
use crate::inflight::{HashedKey, Inflight};
use crate::supergraph::Supergraph;
use crate::AppState;

/// A validated operation with its plan.
pub struct PreparedOperation {
    pub document: Valid<ExecutableDocument>,
    pub operation: Node<Operation>,
    /// `None` when the operation only asks for introspection or the root `__typename`, which
    /// the router answers itself.
    pub plan: Option<QueryPlan>,
    /// Whether a root field is `__schema` or `__type`.
    pub introspects: bool,
    /// What the caller needs (`@authenticated`, `@requiresScopes`).
    pub access: super::authorize::AccessRequirements,
    /// The size of the last response's `data`: the next one is likely alike, and a buffer of
    /// that size is never copied while it grows.
    response_size: AtomicUsize,
    /// Whether its cost was logged as over `demand_control.report_over` already.
    cost_reported: AtomicBool,
}

impl PreparedOperation {
    pub fn operation_type(&self) -> OperationType {
        self.operation.operation_type
    }

    /// A capacity for the next response's `data`.
    pub fn response_size_hint(&self) -> usize {
        // A little headroom: answers of the same operation vary a little in size.
        let last = self.response_size.load(Ordering::Relaxed);
        (last + last / 8).clamp(1024, 16 * 1024 * 1024)
    }

    /// True the first time it is asked (the operation's cost is then logged), false after.
    pub fn first_report_of_cost(&self) -> bool {
        !self.cost_reported.swap(true, Ordering::Relaxed)
    }

    pub fn remember_response_size(&self, size: usize) {
        self.response_size.store(size, Ordering::Relaxed);
    }
}

type CacheKey = (String, Option<String>);

/// Looks up a `CacheKey` without copying the operation text; hashes exactly like it.
#[derive(Hash)]
struct BorrowedKey<'a>(&'a str, Option<&'a str>);

impl Equivalent<CacheKey> for BorrowedKey<'_> {
    fn equivalent(&self, key: &CacheKey) -> bool {
        self.0 == key.0 && self.1 == key.1.as_deref()
    }
}

/// Why the planner gave no plan for an operation that validated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlanningError {
    /// The supergraph offers no way to fetch part of the operation: the client can leave that
    /// part out or ask for it another way.
    #[error("{0}")]
    NoPlan(String),
    /// Planning took longer than `limits.planning_timeout_ms`: the client can split the
    /// operation.
    #[error("planning took longer than {0} ms")]
    TimedOut(u64),
    /// The planner failed in a way no operation should make it (a bug): logged, not shown.
    #[error("{0}")]
    Internal(String),
}

/// How long an operation whose planning timed out is refused without being planned again: a
/// client sending it over and over costs a planning thread once a minute, and a timeout that
/// only a burst of load caused passes. Operations with no plan, which cannot change while the
/// supergraph does not, are remembered until the cache drops them.
const REMEMBER_TIMEOUT: Duration = Duration::from_secs(60);

/// An operation's text and name, as the preparations in flight are keyed.
type PreparingKey = (Arc<str>, Option<Arc<str>>);

pub struct OperationPreparer {
    cache: Cache<CacheKey, Arc<PreparedOperation>>,
    /// Operations the planner could not plan, and when: planning is the costly part of
    /// preparing (up to the planning timeout), so a client sending one again is answered from
    /// here (a timeout only for [`REMEMBER_TIMEOUT`]).
    unplannable: Cache<CacheKey, (PlanningError, Instant)>,
    /// Preparations in flight, which identical requests wait for.
    preparing: Arc<Inflight<PreparingKey, Result<Arc<PreparedOperation>, PipelineError>>>,
    /// Operations prepared (parsed, validated and planned) so far.
    prepared: AtomicU64,
    limits: Limits,
    introspection: bool,
}

impl OperationPreparer {
    pub fn new(cache_size: usize, limits: Limits, introspection: bool) -> Self {
        Self {
            cache: Cache::new(cache_size),
            unplannable: Cache::new((cache_size / 8).max(16)),
            preparing: Inflight::new(),
            prepared: AtomicU64::new(0),
            limits,
            introspection,
        }
    }

    /// The prepared operation, or why it could not be planned, if this text and name were
    /// prepared before.
    pub fn cached(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Option<Result<Arc<PreparedOperation>, PipelineError>> {
        self.cached_at(query, operation_name, Instant::now())
    }

    /// [`Self::cached`] as of `now`.
    fn cached_at(
        &self,
        query: &str,
        operation_name: Option<&str>,
        now: Instant,
    ) -> Option<Result<Arc<PreparedOperation>, PipelineError>> {
        let key = BorrowedKey(query, operation_name);
        if let Some(prepared) = self.cache.get(&key) {
            return Some(Ok(prepared));
        }
        match self.unplannable.get(&key)? {
            // Planning took too long then, perhaps only because the machine was busy: try again.
            (PlanningError::TimedOut(_), when) if now.duration_since(when) >= REMEMBER_TIMEOUT => {
                None
            }
            (error, _) => Some(Err(PipelineError::Planning(error))),
        }
    }

    /// How many operations were prepared so far (requests that found theirs in the cache, or
    /// waited for an identical request's preparation, prepared nothing).
    pub fn prepared(&self) -> u64 {
        self.prepared.load(Ordering::Relaxed)
    }

    /// Prepares and caches. CPU-bound (planning can take long): call it off the async workers.
    pub fn prepare_operation_with_cache(
        &self,
        supergraph: &Supergraph,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<PreparedOperation>, PipelineError> {
        if let Some(found) = self.cached(query, operation_name) {
            return found;
        }
        let key = (query.to_string(), operation_name.map(str::to_string));
        self.prepared.fetch_add(1, Ordering::Relaxed);
        match self.prepare_operation(supergraph, query, operation_name) {
            Ok(prepared) => {
                let prepared = Arc::new(prepared);
                self.cache.insert(key, prepared.clone());
                Ok(prepared)
            }
            Err(PipelineError::Planning(error)) => {
                match &error {
                    PlanningError::Internal(detail) => {
                        tracing::error!(%detail, query, "query planning failed")
                    }
                    reason => tracing::warn!(%reason, query, "an operation cannot be planned"),
                }
                self.unplannable
                    .insert(key, (error.clone(), Instant::now()));
                Err(PipelineError::Planning(error))
            }
            Err(error) => Err(error),
        }
    }

    fn prepare_operation(
        &self,
        supergraph: &Supergraph,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<PreparedOperation, PipelineError> {
        let document = parse_and_validate(supergraph, query, &self.limits)?;
        let operation = document
            .operations
            .get(operation_name)
            .map_err(|e| PipelineError::UnknownOperation(e.message().to_string()))?
            .clone();
        if operation.operation_type == OperationType::Subscription {
            return Err(PipelineError::SubscriptionUnsupported);
        }
        check_limits(&document, &operation, &self.limits)?;
        let introspects = operation
            .root_fields(&document)
            .any(|f| f.name == "__schema" || f.name == "__type");
        if introspects && !self.introspection {
            return Err(PipelineError::IntrospectionDisabled);
        }
        let needs_subgraphs = operation
            .root_fields(&document)
            .any(|f| !f.name.starts_with("__"));
        let plan = if needs_subgraphs {
            let timeout = Duration::from_millis(self.limits.planning_timeout_ms);
            let plan = plan_operation(supergraph, query, operation.name.as_deref(), timeout)
                .map_err(PipelineError::Planning)?;
            Some(plan)
        } else {
            None
        };
        let access =
            super::authorize::access_requirements(supergraph, &document, &operation.selection_set);
        Ok(PreparedOperation {
            document,
            operation,
            plan,
            introspects,
            access,
            response_size: AtomicUsize::new(0),
            cost_reported: AtomicBool::new(false),
        })
    }
}

/// From the cache, or prepared on a blocking thread so that planning never stalls the workers
/// that serve other requests; a request whose operation is being prepared already waits for
/// that preparation.
pub async fn prepare_operation(
    state: &Arc<AppState>,
    query: &Arc<str>,
    operation_name: Option<&str>,
) -> Result<Arc<PreparedOperation>, PipelineError> {
    if let Some(found) = state.preparer.cached(query, operation_name) {
        crate::metrics::record_plan_cache(true);
        return found;
    }
    crate::metrics::record_plan_cache(false);
    let operation_name: Option<Arc<str>> = operation_name.map(Arc::from);
    let key = HashedKey::new((query.clone(), operation_name.clone()));
    let preparation = {
        let (state, query) = (state.clone(), query.clone());
        move || async move {
            tokio::task::spawn_blocking(move || {
                state.preparer.prepare_operation_with_cache(
                    &state.supergraph,
                    &query,
                    operation_name.as_deref(),
                )
            })
            .await
            .unwrap_or_else(|_| Err(preparation_panicked()))
        }
    };
    state
        .preparer
        .preparing
        .run(key, preparation)
        .await
        .unwrap_or_else(|| Err(preparation_panicked()))
}

fn preparation_panicked() -> PipelineError {
    PipelineError::Internal("preparing an operation panicked".into())
}

fn parse_and_validate(
    supergraph: &Supergraph,
    query: &str,
    limits: &Limits,
) -> Result<Valid<ExecutableDocument>, PipelineError> {
    let ast = Parser::new()
        .recursion_limit(limits.max_depth.saturating_mul(4).max(64))
        .token_limit(limits.max_tokens)
        .parse_ast(query, "operation.graphql")
        .map_err(|with_errors| {
            PipelineError::Parse(
                with_errors
                    .errors
                    .iter()
                    .map(|d| GraphQLError::from_apollo(d.to_json(), "GRAPHQL_PARSE_FAILED"))
                    .collect(),
            )
        })?;
    ast.to_executable_validate(&supergraph.api_schema)
        .map_err(|with_errors| {
            PipelineError::Validation(
                with_errors
                    .errors
                    .iter()
                    .map(|d| GraphQLError::from_apollo(d.to_json(), "GRAPHQL_VALIDATION_FAILED"))
                    .collect(),
            )
        })
}

fn plan_operation(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    timeout: Duration,
) -> Result<QueryPlan, PlanningError> {
    // The operation validated, so what the planner's own parser or normalization refuses is
    // a part of it the planner cannot handle: the client's to rewrite.
    let document = graphql_tools::parser::parse_query::<String>(query)
        .map_err(|e| PlanningError::NoPlan(e.to_string()))?
        .into_static();
    let normalized = normalize_operation(&supergraph.planner.supergraph, &document, operation_name)
        .map_err(|e| PlanningError::NoPlan(e.to_string()))?;
    let cancellation = CancellationToken::with_timeout(timeout);
    // The planner asserts its invariants with panics; one must not take the request down.
    let planned = std::panic::catch_unwind(AssertUnwindSafe(|| {
        supergraph.planner.plan_from_normalized_operation(
            normalized.executable_operation(),
            PlannerOverrideContext::default(),
            &cancellation,
        )
    }));
    match planned {
        Ok(Ok(mut plan)) => {
            crate::executor::canonical::canonicalize_plan(&mut plan);
            Ok(plan)
        }
        Ok(Err(_)) if cancellation.bail_if_cancelled().is_err() => Err(PlanningError::TimedOut(
            timeout.as_millis().try_into().unwrap_or(u64::MAX),
        )),
        Ok(Err(error)) => Err(classify(error)),
        Err(_) => Err(PlanningError::Internal("the query planner panicked".into())),
    }
}

/// Whether the planner's failure is about the operation (it found no path through the
/// subgraphs to a part the operation asks for) or the planner's own (building the plan from
/// paths it found).
fn classify(error: PlannerError) -> PlanningError {
    match &error {
        PlannerError::PathLocatorError(_) => PlanningError::NoPlan(error.to_string()),
        _ => PlanningError::Internal(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_operation_is_found_again_by_text_and_name() {
        let supergraph = Supergraph::parse(include_str!(
            "../../tests/fixtures/abstract/supergraph.graphql"
        ))
        .unwrap();
        let preparer = OperationPreparer::new(8, Limits::default(), true);
        let query = "query A { nodes { id } } query B { media { __typename } }";
        assert!(preparer.cached(query, Some("A")).is_none());
        let prepared = preparer
            .prepare_operation_with_cache(&supergraph, query, Some("A"))
            .unwrap();
        let found = preparer
            .cached(query, Some("A"))
            .expect("cached")
            .expect("prepared");
        assert!(Arc::ptr_eq(&prepared, &found));
        assert!(preparer.cached(query, Some("B")).is_none());
        assert!(preparer.cached(query, None).is_none());
    }

    #[test]
    fn an_operation_not_planned_in_time_is_refused_and_remembered_for_a_while() {
        let supergraph = Supergraph::parse(include_str!(
            "../../tests/fixtures/abstract/supergraph.graphql"
        ))
        .unwrap();
        let limits = Limits {
            planning_timeout_ms: 0,
            ..Limits::default()
        };
        let preparer = OperationPreparer::new(8, limits, true);
        let query = "{ media { ... on Book { title } ... on Magazine { issue } } }";
        let refused = preparer.prepare_operation_with_cache(&supergraph, query, None);
        assert!(
            matches!(
                refused,
                Err(PipelineError::Planning(PlanningError::TimedOut(0)))
            ),
            "{:?}",
            refused.err()
        );
        let remembered = preparer
            .cached(query, None)
            .expect("the refusal is remembered");
        assert!(matches!(
            remembered,
            Err(PipelineError::Planning(PlanningError::TimedOut(0)))
        ));
        // For a minute: then it is planned again, as the timeout may have been the load's.
        let later = Instant::now() + REMEMBER_TIMEOUT;
        assert!(preparer
            .cached_at(query, None, later - Duration::from_secs(1))
            .is_some());
        assert!(preparer.cached_at(query, None, later).is_none());
        // Parse and validation errors are cheap to find again and are not kept.
        assert!(preparer
            .prepare_operation_with_cache(&supergraph, "{ nope }", None)
            .is_err());
        assert!(preparer.cached("{ nope }", None).is_none());
    }
}
