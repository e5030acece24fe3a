//! Prometheus metrics. Every process serves `/metrics` in the Prometheus text format from one
//! recorder (the `metrics` facade, rendered by `metrics-exporter-prometheus`); series carry a
//! `service` label, so the embedded shop (every service in one process) tells them apart.
//!
//! Series every service has: `http_requests_total{service, route, status}` and
//! `http_request_duration_seconds{service, route}` (the [`TrackHttpLayer`]),
//! `db_pool_connections{service, state}` (idle or in use, read when scraped), and the event
//! consumers' `events_handled_total`, `events_retried_total`, `events_dead_lettered_total` and
//! `events_lag_seconds` (from an event's occurrence to its handling) by topic and group.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use metrics::{Counter, Histogram};
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

/// Counts requests by route and status and times them, for `service`
/// (`http_requests_total`, `http_request_duration_seconds`). A tower layer rather than an axum
/// `from_fn` middleware, which boxes its inner service and its future on every request.
#[derive(Clone)]
pub struct TrackHttpLayer {
    service: &'static str,
    series: Arc<HttpSeries>,
}

impl TrackHttpLayer {
    pub fn new(service: &'static str) -> Self {
        handle();
        Self {
            service,
            series: Arc::default(),
        }
    }
}

impl<S> tower_layer::Layer<S> for TrackHttpLayer {
    type Service = TrackHttp<S>;

    fn layer(&self, inner: S) -> TrackHttp<S> {
        TrackHttp {
            service: self.service,
            series: self.series.clone(),
            inner,
        }
    }
}

/// Each route's counter and histogram by status, found in the recorder once: building a
/// series' key and looking it up in the registry cost more than recording to it, on every
/// request. A service has few routes and answers with few statuses, so the map stays small.
#[derive(Default)]
struct HttpSeries(Mutex<HashMap<String, HashMap<u16, RouteSeries>>>);

/// A route's request counter (of one status) and its duration histogram.
type RouteSeries = (Counter, Histogram);

impl HttpSeries {
    fn record(&self, service: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
        let record = |(requests, duration): &RouteSeries| {
            requests.increment(1);
            duration.record(elapsed.as_secs_f64());
        };
        let mut routes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = routes.get(route).and_then(|s| s.get(&status.as_u16())) {
            return record(series);
        }
        let route = route.to_string();
        let series = routes
            .entry(route.clone())
            .or_default()
            .entry(status.as_u16())
            .or_insert_with(|| {
                (
                    metrics::counter!("http_requests_total", "service" => service, "route" => route.clone(), "status" => status.as_str().to_string()),
                    metrics::histogram!("http_request_duration_seconds", "service" => service, "route" => route),
                )
            });
        record(series);
    }
}

/// The service of [`TrackHttpLayer`].
#[derive(Clone)]
pub struct TrackHttp<S> {
    service: &'static str,
    series: Arc<HttpSeries>,
    inner: S,
}

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for TrackHttp<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        TrackedResponse {
            inner: self.inner.call(request),
            service: self.service,
            series: Some(self.series.clone()),
            route,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of a [`TrackHttp`] service: recorded when it is ready.
    pub struct TrackedResponse<F> {
        #[pin]
        inner: F,
        service: &'static str,
        // Taken when recorded.
        series: Option<Arc<HttpSeries>>,
        route: Option<MatchedPath>,
        started: Instant,
    }
}

impl<F, ResBody, E> Future for TrackedResponse<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(series)) = (&result, this.series.take()) {
            let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
            series.record(
                this.service,
                route,
                response.status(),
                this.started.elapsed(),
            );
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// The value of one sample on the rendered page, by its name and labels as written there.
    fn sample(page: &str, series: &str) -> Option<f64> {
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
    }

    #[tokio::test]
    async fn each_route_and_status_counts_its_own_requests() {
        let app = axum::Router::new()
            .route("/found", get(|| async { "yes" }))
            .route("/gone", get(|| async { StatusCode::GONE }))
            .layer(TrackHttpLayer::new("track-http-test"));
        for path in ["/found", "/found", "/gone", "/nowhere"] {
            let request = http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            app.clone().oneshot(request).await.unwrap();
        }

        let page = handle().render();
        let count = |route: &str, status: &str| {
            sample(
                &page,
                &format!(
                    "http_requests_total{{service=\"track-http-test\",route=\"{route}\",status=\"{status}\"}}"
                ),
            )
        };
        assert_eq!(count("/found", "200"), Some(2.0), "{page}");
        assert_eq!(count("/gone", "410"), Some(1.0), "{page}");
        assert_eq!(count("/found", "410"), None, "{page}");
        let timed = sample(
            &page,
            "http_request_duration_seconds_count{service=\"track-http-test\",route=\"/found\"}",
        );
        assert_eq!(timed, Some(2.0), "{page}");
    }
}
