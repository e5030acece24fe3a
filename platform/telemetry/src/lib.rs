//! Logs and traces through `tracing`.
//!
//! Logs: `RUST_LOG` overrides the default filter; `LOG_FORMAT=json` writes one JSON object per
//! line (for log collectors) with the fields of the spans it happened in (`span.request_id`)
//! and the OpenTelemetry `trace_id` and `span_id` of the span it happened in.
//!
//! Traces: every process joins the W3C trace context it is called with (`traceparent`) and
//! passes it on to the services it calls, so the router's and every subgraph's spans of one
//! request form one trace. Spans are exported over OTLP/HTTP (protobuf) when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, sampled as
//! `OTEL_TRACES_SAMPLER` says (by default every trace), over TLS to an `https://` collector
//! (see [`otlp`] for a private CA); `OTEL_SERVICE_NAME` overrides the
//! process's service name. Without an endpoint nothing is recorded, but the spans the logs show
//! still get trace ids, passed on to the services called, so log lines of one request share a
//! `trace_id` across processes; spans no log line shows (the router's requests with logs at
//! `warn`) are then not made at all, and the caller's `traceparent` is passed on as it came.
//! `OTEL_SDK_DISABLED=true` leaves OpenTelemetry out altogether: logs only, and the client's
//! `traceparent` forwarded by the router as it came.

mod db_spans;
mod dispatch;
pub mod metrics;
pub mod otlp;
mod propagation;
pub mod trust;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter, TracerProviderBuilder};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use propagation::{continue_trace, continue_traceparent, current_traceparent, trace_headers};

use db_spans::QuerySpans;
use dispatch::DispatchSlot;

/// What reaches the trace exporter: our own spans (requests, fetches, service calls,
/// dataloader batches, event handling) and the log events inside them, not the libraries' internals.
const SPAN_FILTER: &str = "info,h2=warn,hyper=warn,hyper_util=warn,reqwest=warn,sqlx=warn,tantivy=warn,async_graphql=warn";

/// The installed telemetry. Keep it until the process ends: dropping it exports the spans
/// still waiting in the batch.
#[must_use = "dropping it shuts the span export down"]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // A provider that never had an exporter has nothing to flush.
        let _ = self.provider.shutdown();
    }
}

/// Installs logs and traces for the process `service` (the launcher's embedded shop is one
/// process); `default_filter` applies when `RUST_LOG` is not set. A second call keeps the first
/// subscriber (tests, the embedded launcher).
pub fn init(service: &str, default_filter: &str) -> Telemetry {
    let builder = provider_builder(service);
    if std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        let _ = tracing_subscriber::registry()
            .with(logs(log_filter(default_filter), &DispatchSlot::default()))
            .try_init();
        return Telemetry {
            provider: builder.build(),
        };
    }
    let exporter = otlp::OtlpSettings::from_env().and_then(|settings| {
        otlp::span_exporter(&settings)
            .inspect_err(|error| {
                eprintln!("the OTLP span exporter cannot be built, spans are not exported: {error}")
            })
            .ok()
    });
    match exporter {
        Some(exporter) => install(builder.with_batch_exporter(exporter), true, default_filter),
        // Nothing is exported: record nothing, but keep the caller's sampling decision for the
        // services called next.
        None => install(
            builder.with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
            false,
            default_filter,
        ),
    }
}

/// Like [`init`], with every span handed to `exporter` as soon as it ends (tests collect
/// spans in memory this way).
pub fn init_with_exporter(
    service: &str,
    default_filter: &str,
    exporter: impl SpanExporter + 'static,
) -> Telemetry {
    install(
        provider_builder(service)
            .with_simple_exporter(exporter)
            .with_sampler(Sampler::AlwaysOn),
        true,
        default_filter,
    )
}

/// For tests: warnings and errors (internal errors' details among them) go to the test's
/// captured output, shown when it fails; sqlx's slow-statement warnings do not.
pub fn init_for_tests() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter("warn,sqlx=error"))
        .with_test_writer()
        .try_init();
}

fn provider_builder(service: &str) -> TracerProviderBuilder {
    let resource = if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
        Resource::builder().build()
    } else {
        Resource::builder()
            .with_service_name(service.to_string())
            .build()
    };
    SdkTracerProvider::builder().with_resource(resource)
}

fn install(builder: TracerProviderBuilder, exporting: bool, default_filter: &str) -> Telemetry {
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    // Layers reading spans' OpenTelemetry context while they handle an event need the
    // subscriber's dispatch: the slot gets it when the subscriber is installed.
    let dispatch = DispatchSlot::default();
    let _ = tracing_subscriber::registry()
        .with(dispatch.layer())
        .with(logs(log_filter(default_filter), &dispatch))
        .with(spans(
            &provider,
            (!exporting).then(|| log_filter(default_filter)),
            &dispatch,
        ))
        .try_init();
    Telemetry { provider }
}

fn log_filter(default_filter: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter))
}

/// The log lines, as text or JSON.
fn logs<S>(filter: EnvFilter, dispatch: &DispatchSlot) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + Send + Sync + for<'a> LookupSpan<'a>,
{
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        json_lines(std::io::stdout, dispatch)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().with_filter(filter).boxed()
    }
}

/// JSON log lines: time, level, target, the event's fields at the top, the fields of the spans
/// it happened in under `span`, and the trace and span ids of the innermost traced span.
fn json_lines<S, W>(writer: W, dispatch: &DispatchSlot) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let mut lines = json_subscriber::JsonLayer::new(writer);
    lines
        .with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime)
        .with_level("level")
        .with_target("target")
        .with_flattened_event()
        .with_flattened_span_fields("span");
    let trace = dispatch.clone();
    lines.add_from_span("trace_id", move |span| {
        Some(trace.span_context(span)?.trace_id().to_string())
    });
    let span_ids = dispatch.clone();
    lines.add_from_span("span_id", move |span| {
        Some(span_ids.span_context(span)?.span_id().to_string())
    });
    lines
}

/// The OpenTelemetry layer, and when spans are exported, one span per database statement.
/// `shown`: the log filter, when nothing is exported. OpenTelemetry then only gives log lines
/// their trace ids (and the services called the trace to join), so it follows only the spans
/// the logs show: a span per request that no line shows would cost CPU for nothing.
fn spans<S>(
    provider: &SdkTracerProvider,
    shown: Option<EnvFilter>,
    dispatch: &DispatchSlot,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + Send + Sync + for<'a> LookupSpan<'a>,
{
    let tracer = provider.tracer("shop");
    // Parents, `traceparent` and the log lines' ids are all read from the spans themselves, so
    // nothing needs OpenTelemetry's thread-local context, which would otherwise be attached on
    // every enter of a span: every poll of an instrumented future.
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer.clone())
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_threads(false);
    match shown {
        None => {
            // sqlx reports each statement when it ends, with its duration, under `sqlx::query`.
            let statements = QuerySpans::new(tracer, dispatch.clone())
                .with_filter(Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
            spans
                .with_filter(EnvFilter::new(SPAN_FILTER))
                .and_then(statements)
                .boxed()
        }
        // Not an absent layer beside it for the statements: a `None` layer enables every span
        // of every library.
        Some(shown) => spans
            .with_filter(EnvFilter::new(SPAN_FILTER).and(shown))
            .boxed(),
    }
}

#[cfg(test)]
mod tests;
