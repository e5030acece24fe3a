//! The router's metrics, on the process's recorder (`telemetry::metrics`, served at `/metrics`):
//! - `graphql_requests_total{service, operation, client, outcome}` (outcome `ok` or the error
//!   code that ended the request) and `graphql_request_duration_seconds{service, operation}`;
//! - `graphql_errors_total{service, code}`: request errors and failed subgraph fetches;
//! - `router_subgraph_fetch_duration_seconds{subgraph}` and
//!   `router_subgraph_fetch_errors_total{subgraph, code}`;
//! - `router_plan_cache_total{result}` (hit or miss) and `router_rate_limited_total{kind}`;
//! - `router_http_connections{thread}`: client connections each serving thread serves (with
//!   `http.threads`).
//!
//! Operation and client names come from clients, so each label keeps at most
//! [`MAX_DISTINCT`] values and counts the rest as `other`: a client cannot grow the series
//! without bound.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use auth::Viewer;
use http::{HeaderMap, HeaderName};
use metrics::{Counter, Histogram, SharedString};

const SERVICE: &str = "router";
const MAX_DISTINCT: usize = 500;

/// A label whose values come from clients, capped. Each value is kept once and shared.
struct CappedLabel(Mutex<HashSet<SharedString>>);

impl CappedLabel {
    fn value(&self, raw: &str) -> SharedString {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = seen.get(raw) {
            return value.clone();
        }
        if seen.len() >= MAX_DISTINCT || raw.len() > 100 {
            return SharedString::const_str("other");
        }
        let value = SharedString::from_shared(raw.into());
        seen.insert(value.clone());
        value
    }
}

static OPERATIONS: LazyLock<CappedLabel> =
    LazyLock::new(|| CappedLabel(Mutex::new(HashSet::new())));
static CLIENTS: LazyLock<CappedLabel> = LazyLock::new(|| CappedLabel(Mutex::new(HashSet::new())));

/// What a request's series are labelled with, learnt as it goes through the pipeline.
pub struct RequestLabels {
    pub operation: SharedString,
    pub client: SharedString,
}

impl RequestLabels {
    /// Before anything is known: an anonymous client, no operation.
    pub fn new(headers: &HeaderMap) -> Self {
        static CLIENT_NAME: HeaderName = HeaderName::from_static("apollographql-client-name");
        let client = headers
            .get(&CLIENT_NAME)
            .and_then(|v| v.to_str().ok())
            .map_or(SharedString::const_str("anonymous"), |name| {
                CLIENTS.value(name)
            });
        Self {
            operation: SharedString::const_str("unknown"),
            client,
        }
    }

    /// A partner is counted by its client id (partners are few and each is someone to call).
    pub fn set_viewer(&mut self, viewer: Option<&Viewer>) {
        if let Some(viewer) = viewer.filter(|v| v.is_partner()) {
            if let Some(id) = viewer.user_id() {
                self.client = CLIENTS.value(&format!("partner:{id}"));
            }
        }
    }

    pub fn set_operation(&mut self, name: Option<&str>) {
        self.operation = OPERATIONS.value(name.unwrap_or("anonymous"));
    }
}

/// The series a request that ended well records to, by operation and then client, found in
/// the recorder once: building a series' key and looking it up in the registry cost more than
/// recording to it, on every request. Both labels are capped, as the registry's series are.
type AnsweredSeries = HashMap<SharedString, HashMap<SharedString, (Histogram, Counter)>>;

static ANSWERED: LazyLock<Mutex<AnsweredSeries>> = LazyLock::new(Default::default);

/// One client request: how it ended and how long it took.
pub fn record_request(labels: RequestLabels, error_code: Option<&str>, elapsed: Duration) {
    telemetry::metrics::handle();
    let Some(code) = error_code else {
        let mut operations = ANSWERED.lock().unwrap_or_else(|e| e.into_inner());
        let (duration, requests) = operations
            .entry(labels.operation.clone())
            .or_default()
            .entry(labels.client.clone())
            .or_insert_with(|| {
                (
                    duration_histogram(labels.operation.clone()),
                    metrics::counter!("graphql_requests_total", "service" => SERVICE,
                        "operation" => labels.operation, "client" => labels.client, "outcome" => "ok"),
                )
            });
        duration.record(elapsed.as_secs_f64());
        requests.increment(1);
        return;
    };
    metrics::counter!("graphql_errors_total", "service" => SERVICE, "code" => code.to_string())
        .increment(1);
    duration_histogram(labels.operation.clone()).record(elapsed.as_secs_f64());
    metrics::counter!("graphql_requests_total", "service" => SERVICE, "operation" => labels.operation,
        "client" => labels.client, "outcome" => code.to_string())
    .increment(1);
}

fn duration_histogram(operation: SharedString) -> Histogram {
    metrics::histogram!("graphql_request_duration_seconds", "service" => SERVICE, "operation" => operation)
}

/// One subgraph fetch (shared calls count for each caller).
pub fn record_fetch(subgraph: &str, error_code: Option<&'static str>, elapsed: Duration) {
    metrics::histogram!("router_subgraph_fetch_duration_seconds", "subgraph" => subgraph.to_string())
        .record(elapsed.as_secs_f64());
    if let Some(code) = error_code {
        metrics::counter!("router_subgraph_fetch_errors_total", "subgraph" => subgraph.to_string(), "code" => code)
            .increment(1);
        metrics::counter!("graphql_errors_total", "service" => SERVICE, "code" => code)
            .increment(1);
    }
}

/// A prepared operation found in the cache, or not (every request: the two series' handles are
/// found in the recorder once).
pub fn record_plan_cache(hit: bool) {
    static RESULTS: LazyLock<[Counter; 2]> = LazyLock::new(|| {
        telemetry::metrics::handle();
        ["miss", "hit"]
            .map(|result| metrics::counter!("router_plan_cache_total", "result" => result))
    });
    RESULTS[usize::from(hit)].increment(1);
}

/// The estimated cost of each operation run (demand control), for setting a maximum from data.
pub fn record_estimated_cost(estimated: u64) {
    metrics::histogram!("router_operation_estimated_cost").record(estimated as f64);
}

/// The actual cost of each operation executed (its response's values by the same weights),
/// beside [`record_estimated_cost`]: how far estimates are from what operations really cost.
pub fn record_actual_cost(actual: u64) {
    metrics::histogram!("router_operation_actual_cost").record(actual as f64);
}

pub fn record_rate_limited(kind: &'static str) {
    metrics::counter!("router_rate_limited_total", "kind" => kind).increment(1);
}

/// A client connection came to serving thread `thread`, or (`opened` false) left it.
pub fn record_serving_thread_connection(thread: usize, opened: bool) {
    let gauge = metrics::gauge!("router_http_connections", "thread" => thread.to_string());
    if opened {
        gauge.increment(1.0);
    } else {
        gauge.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(page: &str, series: &str) -> Option<f64> {
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
    }

    fn labels(operation: &str, client: &str) -> RequestLabels {
        let mut headers = HeaderMap::new();
        headers.insert("apollographql-client-name", client.parse().unwrap());
        let mut labels = RequestLabels::new(&headers);
        labels.set_operation(Some(operation));
        labels
    }

    #[test]
    fn each_operation_client_and_outcome_counts_its_own_requests() {
        let elapsed = Duration::from_millis(3);
        record_request(labels("MetricsTestA", "web"), None, elapsed);
        record_request(labels("MetricsTestA", "web"), None, elapsed);
        record_request(labels("MetricsTestA", "app"), None, elapsed);
        record_request(labels("MetricsTestB", "web"), None, elapsed);
        record_request(
            labels("MetricsTestA", "web"),
            Some("BAD_USER_INPUT"),
            elapsed,
        );

        let page = telemetry::metrics::handle().render();
        let requests = |operation: &str, client: &str, outcome: &str| {
            sample(
                &page,
                &format!(
                    "graphql_requests_total{{service=\"router\",operation=\"{operation}\",client=\"{client}\",outcome=\"{outcome}\"}}"
                ),
            )
        };
        assert_eq!(requests("MetricsTestA", "web", "ok"), Some(2.0), "{page}");
        assert_eq!(requests("MetricsTestA", "app", "ok"), Some(1.0), "{page}");
        assert_eq!(requests("MetricsTestB", "web", "ok"), Some(1.0), "{page}");
        assert_eq!(
            requests("MetricsTestA", "web", "BAD_USER_INPUT"),
            Some(1.0),
            "{page}"
        );
        let timed = sample(
            &page,
            "graphql_request_duration_seconds_count{service=\"router\",operation=\"MetricsTestA\"}",
        );
        assert_eq!(timed, Some(4.0), "{page}");
    }

    #[test]
    fn plan_cache_hits_and_misses_count_apart() {
        let page = || telemetry::metrics::handle().render();
        let count = |page: &str, result: &str| {
            sample(
                page,
                &format!("router_plan_cache_total{{result=\"{result}\"}}"),
            )
            .unwrap_or(0.0)
        };
        let before = page();
        record_plan_cache(true);
        record_plan_cache(true);
        record_plan_cache(false);
        let after = page();
        // Other tests in this binary prepare operations too: at least these.
        assert!(
            count(&after, "hit") - count(&before, "hit") >= 2.0,
            "{after}"
        );
        assert!(
            count(&after, "miss") - count(&before, "miss") >= 1.0,
            "{after}"
        );
    }
}
