//! W3C trace context (`traceparent`, `tracestate`) in and out of HTTP headers.

use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Makes `span` (a request's server span) continue the trace of the caller's `traceparent`;
/// without one, the span starts a new trace.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    // A span nothing follows (no log line shows it, no collector receives it) joins nothing.
    if span.is_disabled() {
        return;
    }
    let caller = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    if caller.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer is installed: then there is nothing to join.
        let _ = span.set_parent(caller);
    }
}

/// Makes `span` (an event consumer's) continue the trace of the event's `traceparent`.
pub fn continue_traceparent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(value) = traceparent.and_then(|v| http::HeaderValue::from_str(v).ok()) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", value);
    continue_trace(span, &headers);
}

/// The `traceparent` naming the current span, for an event raised now; `None` when nothing is
/// traced.
pub fn current_traceparent() -> Option<String> {
    trace_headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The trace context headers for a call made now, naming the current span as the caller;
/// empty when nothing is traced.
pub fn trace_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut HeaderInjector(&mut headers))
        });
    }
    headers
}
