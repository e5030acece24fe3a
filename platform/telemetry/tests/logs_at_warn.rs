//! The process's subscriber with logs at `warn` and nothing exported.

mod common;

#[test]
fn spans_no_log_line_shows_are_not_made_and_the_callers_trace_is_not_joined() {
    let _telemetry = common::init_without_collector("warn");

    let request = tracing::info_span!("request", request_id = "req-1");
    assert!(
        request.is_disabled(),
        "no log line shows it, nothing exports it"
    );
    telemetry::continue_trace(&request, &common::caller_headers());
    let forwarded = request.in_scope(telemetry::trace_headers);
    // The router then passes the caller's own `traceparent` on.
    assert!(forwarded.is_empty(), "{forwarded:?}");

    let library = tracing::trace_span!(target: "hyper::proto", "parse");
    assert!(library.is_disabled());
    let shown = tracing::warn_span!("request");
    assert!(!shown.is_disabled(), "a span the logs show is made");
}
