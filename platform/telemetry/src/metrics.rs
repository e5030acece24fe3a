//! Prometheus metrics. Every process serves `/metrics` in the Prometheus text format from one
//! recorder (the `metrics` facade, rendered by `metrics-exporter-prometheus`); series carry a
//! `service` label, so the embedded shop (every service in one process) tells them apart.
//!
//! Series every service has: `http_requests_total{service, route, status}` and
//! `http_request_duration_seconds{service, route}` (the [`track_http`] layer),
//! `db_pool_connections{service, state}` (idle or in use, read when scraped), and the event
//! consumers' `events_handled_total`, `events_retried_total`, `events_dead_lettered_total` and
//! `events_lag_seconds` (from an event's occurrence to its handling) by topic and group.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: 1 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a test's) keeps recording; this one then renders
        // an empty page rather than taking the process down.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before; /metrics stays empty");
        }
        spawn_upkeep(handle.clone());
        handle
    })
}

/// A histogram keeps every sample recorded until upkeep folds it into the buckets, which a
/// scrape of `/metrics` also does: without this, a process nobody scrapes grows by every
/// request's samples (about 13 MiB a quarter minute for the router under load). A thread of
/// its own, as the recorder may be installed before any async runtime exists.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "metrics upkeep cannot run; histograms fold samples when scraped");
    }
}

/// The `/metrics` response: every series of the process.
pub fn render() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

/// A middleware counting requests by route and status and timing them, for `service`.
pub async fn track_http(service: &'static str, request: Request, next: Next) -> Response {
    handle();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "service" => service, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "service" => service, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
