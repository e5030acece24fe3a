//! What the single-test binaries share: each installs the process's subscriber (one per binary:
//! interest in a span is decided for every subscriber at once).

/// The caller's trace context, as a client would send it.
pub const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Installs the process's telemetry with logs at `rust_log` and no collector, whatever the
/// environment the tests run in says.
pub fn init_without_collector(rust_log: &str) -> telemetry::Telemetry {
    std::env::set_var("RUST_LOG", rust_log);
    for unset in [
        "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        std::env::remove_var(unset);
    }
    telemetry::init("test", "info")
}

/// A request's headers carrying the caller's `traceparent`.
pub fn caller_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let traceparent = format!("00-{CALLER_TRACE}-00f067aa0ba902b7-01");
    headers.insert("traceparent", traceparent.parse().unwrap());
    headers
}
