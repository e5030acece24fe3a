//! The process's subscriber (one per test binary: interest in a span is decided for every
//! subscriber at once) with logs at `warn` and nothing exported.

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn spans_no_log_line_shows_are_not_made_and_the_callers_trace_is_not_joined() {
    std::env::set_var("RUST_LOG", "warn");
    for unset in [
        "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        std::env::remove_var(unset);
    }
    let _telemetry = telemetry::init("test", "info");

    let request = tracing::info_span!("request", request_id = "req-1");
    assert!(
        request.is_disabled(),
        "no log line shows it, nothing exports it"
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", CALLER.parse().unwrap());
    telemetry::continue_trace(&request, &headers);
    let forwarded = request.in_scope(telemetry::trace_headers);
    // The router then passes the caller's own `traceparent` on.
    assert!(forwarded.is_empty(), "{forwarded:?}");

    let library = tracing::trace_span!(target: "hyper::proto", "parse");
    assert!(library.is_disabled());
    let shown = tracing::warn_span!("request");
    assert!(!shown.is_disabled(), "a span the logs show is made");
}
