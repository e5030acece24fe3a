//! The process's subscriber (one per test binary: interest in a span is decided for every
//! subscriber at once) with logs at `info` and nothing exported.

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[test]
fn spans_the_logs_show_join_the_callers_trace_and_pass_it_on() {
    std::env::set_var("RUST_LOG", "info");
    for unset in [
        "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        std::env::remove_var(unset);
    }
    let _telemetry = telemetry::init("test", "warn");

    let request = tracing::info_span!("request", request_id = "req-1");
    assert!(!request.is_disabled());
    let mut headers = http::HeaderMap::new();
    let caller = format!("00-{CALLER_TRACE}-00f067aa0ba902b7-01");
    headers.insert("traceparent", caller.parse().unwrap());
    telemetry::continue_trace(&request, &headers);
    let forwarded = request.in_scope(telemetry::trace_headers);
    let traceparent = forwarded["traceparent"].to_str().unwrap();
    assert!(traceparent.contains(CALLER_TRACE), "{traceparent}");
    assert_ne!(traceparent, caller, "the request span is the caller now");

    // Libraries' spans stay out, even with an OpenTelemetry layer that exports nothing.
    let library = tracing::trace_span!(target: "hyper::proto", "parse");
    assert!(library.is_disabled());
}
