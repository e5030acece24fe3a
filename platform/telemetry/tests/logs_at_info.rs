//! The process's subscriber with logs at `info` and nothing exported.

mod common;

#[test]
fn spans_the_logs_show_join_the_callers_trace_and_pass_it_on() {
    let _telemetry = common::init_without_collector("info");

    let request = tracing::info_span!("request", request_id = "req-1");
    assert!(!request.is_disabled());
    let caller = common::caller_headers();
    telemetry::continue_trace(&request, &caller);
    let forwarded = request.in_scope(telemetry::trace_headers);
    let traceparent = forwarded["traceparent"].to_str().unwrap();
    assert!(traceparent.contains(common::CALLER_TRACE), "{traceparent}");
    assert_ne!(
        forwarded["traceparent"], caller["traceparent"],
        "the request span is the caller now"
    );

    // Libraries' spans stay out, even with an OpenTelemetry layer that exports nothing.
    let library = tracing::trace_span!(target: "hyper::proto", "parse");
    assert!(library.is_disabled());
}
