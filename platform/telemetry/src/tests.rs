use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::EnvFilter;

use super::{continue_trace, json_lines, spans, trace_headers, DispatchSlot};

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn parsed(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
            .collect()
    }
}

fn caller_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", CALLER.parse().unwrap());
    headers
}

#[test]
fn json_lines_carry_the_request_id_and_the_trace_the_caller_started() {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let lines = Lines::default();
    let writer = lines.clone();
    let provider = SdkTracerProvider::builder().build();
    let dispatch = DispatchSlot::default();
    let subscriber = tracing_subscriber::registry()
        .with(dispatch.layer())
        .with(json_lines(move || writer.clone(), &dispatch))
        .with(spans(&provider, Some(EnvFilter::new("info")), &dispatch));

    let forwarded = tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside any request");
        let request = tracing::info_span!("request", request_id = "req-1");
        continue_trace(&request, &caller_headers());
        let _entered = request.enter();
        tracing::info!(product = "p-1", "loading");
        let _inner = tracing::info_span!("fetch", subgraph = "catalog").entered();
        tracing::warn!("slow");
        trace_headers()
    });

    let lines = lines.parsed();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(lines[0]["message"], "outside any request");
    assert!(lines[0].get("trace_id").is_none(), "{:#}", lines[0]);
    for line in &lines[1..] {
        assert_eq!(
            line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
            "{line:#}"
        );
        assert_eq!(line["span"]["request_id"], "req-1", "{line:#}");
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line:#}"
        );
    }
    assert_eq!(lines[1]["product"], "p-1");
    assert_eq!(lines[1]["message"], "loading");
    assert_eq!(lines[2]["span"]["subgraph"], "catalog");
    // Each line names the span it happened in, the caller's span is not one of ours.
    assert_ne!(lines[1]["span_id"], "00f067aa0ba902b7");
    assert_ne!(lines[1]["span_id"], lines[2]["span_id"]);

    // A call made inside the fetch continues the trace, naming the fetch span as its caller.
    let traceparent = forwarded["traceparent"].to_str().unwrap();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(parts[2], lines[2]["span_id"].as_str().unwrap());
}

#[test]
fn nothing_is_forwarded_outside_a_traced_span() {
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry().with(spans(
        &provider,
        Some(EnvFilter::new("info")),
        &DispatchSlot::default(),
    ));
    let headers = tracing::subscriber::with_default(subscriber, trace_headers);
    assert!(headers.is_empty(), "{headers:?}");
}
