//! The request pipeline, one stage per module, run in this order by [`run_pipeline`]:
//! 1. [`request`]: HTTP -> GraphQL request (the server calls it before the rest; [`uploads`]
//!    reads a multipart request's files);
//! 2. [`authenticate`]: the caller from a verified bearer token;
//! 3. [`persisted`]: the operation text, from a persisted operation's id or as sent (partners
//!    may only run published operations);
//! 4. [`prepare`]: parse, validate, operation [`limits`], plan (cached); a new APQ
//!    registration is kept once it proved valid;
//! 5. [`request::ensure_method_allows`]: GET runs queries only; [`rate_limit`]: the client's
//!    query or mutation bucket;
//! 6. [`authorize`]: `@authenticated` / `@requiresScopes` against the caller;
//! 7. [`variables`]: coerce the variables; [`cost`]: the estimated cost, refused over the maximum
//!    (the actual cost, counted as the response is written, is recorded beside it);
//! 8. [`dedupe`]: identical in-flight queries share one execution;
//! 9. [`execute`]: run the plan against the subgraphs, then [`respond`] shapes the merged
//!    data with [`project`] into the response body.

pub mod authenticate;
pub mod authorize;
pub mod cost;
pub mod dedupe;
pub mod execute;
pub mod limits;
pub mod persisted;
pub mod prepare;
pub mod project;
pub mod rate_limit;
pub mod request;
pub mod respond;
pub mod uploads;
pub mod variables;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use self::authenticate::authenticate;
use self::authorize::authorize;
use self::cost::{check_cost, estimate_cost, with_cost_extension};
use self::dedupe::execute_deduplicated;
use self::persisted::{register, resolve_document, PersistedError};
use self::prepare::{prepare_operation, PlanningError};
use self::rate_limit::limit_rate;
use self::request::{ensure_method_allows, GraphQLRequest};
use self::variables::coerce_variables;
use crate::graphql_error::GraphQLError;
use crate::metrics::{record_request, RequestLabels};
use crate::rate_limit::OperationKind;
use crate::AppState;

/// Runs a GraphQL request through every stage; the response body, or the error that ended it.
/// Counted and timed by operation and client ([`crate::metrics`]).
pub async fn run_pipeline(
    state: &Arc<AppState>,
    request: GraphQLRequest,
    headers: &HeaderMap,
) -> Result<Bytes, PipelineError> {
    let started = std::time::Instant::now();
    let mut labels = RequestLabels::new(headers);
    let result = run_stages(state, request, headers, &mut labels).await;
    let code = result.as_ref().err().map(PipelineError::code);
    record_request(labels, code, started.elapsed());
    result
}

async fn run_stages(
    state: &Arc<AppState>,
    request: GraphQLRequest,
    headers: &HeaderMap,
    labels: &mut RequestLabels,
) -> Result<Bytes, PipelineError> {
    let viewer = authenticate(state.verifier.as_ref(), headers).await?;
    labels.set_viewer(viewer.as_ref());
    let document = resolve_document(&state.persisted, &request, viewer.as_ref()).await?;
    let prepared =
        prepare_operation(state, &document.text, request.operation_name.as_deref()).await?;
    labels.set_operation(prepared.operation.name.as_deref());
    register(&state.persisted, document).await;
    ensure_method_allows(&request, prepared.operation_type())?;
    if !request.uploads.is_empty() && !prepared.operation_type().is_mutation() {
        return Err(PipelineError::UploadsOutsideMutation);
    }
    let kind = if prepared.operation_type().is_mutation() {
        OperationKind::Mutation
    } else {
        OperationKind::Query
    };
    limit_rate(
        state.rate_limiter.as_ref(),
        viewer.as_ref(),
        headers,
        state.config.rate_limits.trusted_proxy_hops,
        kind,
    )
    .await?;
    if let Some(viewer) = &viewer {
        authorize(&prepared.access, viewer)?;
    }
    let variables = coerce_variables(&state.supergraph, &prepared, &request.variables)?;
    let demand = &state.config.demand_control;
    let wants_cost = request.extensions.get("cost").and_then(|v| v.as_bool()) == Some(true);
    let cost = (demand.enabled || wants_cost)
        .then(|| estimate_cost(&state.supergraph.api_schema, &prepared, &variables, demand));
    if let (Some(estimated), true) = (cost, demand.enabled) {
        crate::metrics::record_estimated_cost(estimated);
        if estimated > demand.report_over && prepared.first_report_of_cost() {
            tracing::warn!(
                estimated,
                report_over = demand.report_over,
                max_cost = ?demand.max_cost,
                operation = prepared.operation.name.as_ref().map(|n| n.as_str()).unwrap_or("<anonymous>"),
                "an operation costs more than demand_control.report_over"
            );
        }
        check_cost(estimated, demand)?;
    }
    let executed =
        execute_deduplicated(state, prepared, variables, &request.uploads, headers).await?;
    if demand.enabled {
        crate::metrics::record_actual_cost(executed.actual_cost);
    }
    match cost {
        Some(estimated) if wants_cost => Ok(Bytes::from(with_cost_extension(
            &executed.body,
            estimated,
            executed.actual_cost,
            demand.max_cost,
        ))),
        _ => Ok(executed.body),
    }
}

/// Errors that end a request before execution. Each maps to an HTTP status and GraphQL errors
/// that are safe to show a client; internal ones are logged and shown as a generic message.
/// Cloned for each request that waited for the same preparation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unsupported content type {0:?}: send application/json")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("file {file:?} is larger than {max_bytes} bytes")]
    UploadTooLarge { file: String, max_bytes: usize },
    #[error("files may only be sent with a mutation")]
    UploadsOutsideMutation,
    #[error("only queries may be sent with GET; use POST for mutations")]
    MutationOverGet,
    #[error("the operation could not be parsed")]
    Parse(Vec<GraphQLError>),
    #[error("the operation is not valid against the schema")]
    Validation(Vec<GraphQLError>),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{}", .0.message)]
    InvalidVariables(Box<GraphQLError>),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("introspection is disabled")]
    IntrospectionDisabled,
    #[error("subscriptions are not supported over this endpoint")]
    SubscriptionUnsupported,
    /// The planner could not plan a valid operation (or gave up, or panicked).
    #[error("query planning failed: {0}")]
    Planning(#[from] prepare::PlanningError),
    /// A failure of the router itself, not of the request.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("not allowed: the access token lacks a required scope")]
    Forbidden,
    #[error("token verification is unavailable: {0}")]
    AuthUnavailable(String),
    #[error(transparent)]
    Persisted(#[from] PersistedError),
    #[error("the operation's estimated cost is {estimated}; the limit is {max}")]
    CostExceeded { estimated: u64, max: u64 },
    #[error("too many requests: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
}

impl PipelineError {
    /// The code clients see for this error (the first, for parse and validation errors).
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::BadRequest(_) => "BAD_REQUEST",
            PipelineError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            PipelineError::PayloadTooLarge(_) | PipelineError::UploadTooLarge { .. } => {
                "PAYLOAD_TOO_LARGE"
            }
            PipelineError::UploadsOutsideMutation => "BAD_REQUEST",
            PipelineError::MutationOverGet => "METHOD_NOT_ALLOWED",
            PipelineError::Parse(_) => "GRAPHQL_PARSE_FAILED",
            PipelineError::Validation(_) => "GRAPHQL_VALIDATION_FAILED",
            PipelineError::UnknownOperation(_) => "GRAPHQL_UNKNOWN_OPERATION_NAME",
            PipelineError::InvalidVariables(_) => "BAD_USER_INPUT",
            PipelineError::LimitExceeded(_) => "OPERATION_LIMIT_EXCEEDED",
            PipelineError::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            PipelineError::SubscriptionUnsupported => "SUBSCRIPTION_UNSUPPORTED",
            PipelineError::Unauthenticated(_) => "UNAUTHENTICATED",
            PipelineError::Forbidden => "FORBIDDEN",
            PipelineError::AuthUnavailable(_) => "SERVICE_UNAVAILABLE",
            PipelineError::Planning(PlanningError::NoPlan(_)) => "QUERY_PLANNING_FAILED",
            PipelineError::Planning(PlanningError::TimedOut(_)) => "QUERY_PLANNING_TIMEOUT",
            PipelineError::Planning(PlanningError::Internal(_)) => "INTERNAL_SERVER_ERROR",
            PipelineError::Internal(_) => "INTERNAL_SERVER_ERROR",
            PipelineError::Persisted(error) => error.code(),
            PipelineError::CostExceeded { .. } => "COST_ESTIMATED_TOO_EXPENSIVE",
            PipelineError::RateLimited { .. } => "RATE_LIMITED",
        }
    }

    /// Whole seconds the client should wait (`Retry-After`), for a refused rate.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            PipelineError::RateLimited { retry_after_ms } => Some(retry_after_ms.div_ceil(1000)),
            _ => None,
        }
    }

    /// The status for a client that accepts `application/graphql-response+json`; legacy
    /// `application/json` clients get 200 for GraphQL-level request errors, per GraphQL over HTTP.
    pub fn status(&self, graphql_response_json: bool) -> StatusCode {
        match self {
            PipelineError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PipelineError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PipelineError::PayloadTooLarge(_) | PipelineError::UploadTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            PipelineError::UploadsOutsideMutation => StatusCode::BAD_REQUEST,
            PipelineError::MutationOverGet => StatusCode::METHOD_NOT_ALLOWED,
            PipelineError::Planning(PlanningError::Internal(_)) | PipelineError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            PipelineError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            PipelineError::Forbidden => StatusCode::FORBIDDEN,
            PipelineError::AuthUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PipelineError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            PipelineError::Parse(_)
            | PipelineError::Validation(_)
            | PipelineError::UnknownOperation(_)
            | PipelineError::InvalidVariables(_)
            | PipelineError::LimitExceeded(_)
            | PipelineError::IntrospectionDisabled
            | PipelineError::SubscriptionUnsupported
            | PipelineError::Persisted(_)
            | PipelineError::CostExceeded { .. }
            | PipelineError::Planning(PlanningError::NoPlan(_) | PlanningError::TimedOut(_)) => {
                if graphql_response_json {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                }
            }
        }
    }

    pub fn into_errors(self) -> Vec<GraphQLError> {
        let code = self.code();
        match &self {
            PipelineError::Parse(errors) | PipelineError::Validation(errors) => errors.clone(),
            PipelineError::InvalidVariables(error) => vec![(**error).clone()],
            PipelineError::RateLimited { retry_after_ms } => {
                vec![GraphQLError::new(self.to_string(), code)
                    .with_extension("retryAfterMs", *retry_after_ms)]
            }
            // Internal details are logged, never shown.
            PipelineError::AuthUnavailable(detail) => {
                tracing::error!(%detail, "token verification unavailable");
                vec![GraphQLError::new("Token verification is unavailable", code)]
            }
            // The client's to fix: the planner's reason tells what. Planning failures are logged
            // where they are found, once per operation (see `prepare`).
            PipelineError::Planning(PlanningError::NoPlan(reason)) => {
                vec![GraphQLError::new(
                    "The operation cannot be planned against this supergraph",
                    code,
                )
                .with_extension("reason", reason.as_str())]
            }
            PipelineError::Planning(reason @ PlanningError::TimedOut(_)) => {
                vec![GraphQLError::new(
                    "Planning the operation took too long: send it as smaller operations",
                    code,
                )
                .with_extension("reason", reason.to_string())]
            }
            PipelineError::Planning(PlanningError::Internal(_)) => {
                vec![GraphQLError::new(
                    "The router could not plan this operation",
                    code,
                )]
            }
            PipelineError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                vec![GraphQLError::new("Internal server error", code)]
            }
            _ => vec![GraphQLError::new(self.to_string(), code)],
        }
    }
}
