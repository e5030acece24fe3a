//! One checkout is one trace: the router's request and fetch spans, and the spans of every
//! subgraph the checkout touched, through the router or through service calls, down to their
//! dataloader batches and database statements. The spans are collected in memory as they end.
//!
//! Its own test binary: it installs the process's global subscriber.

#[allow(dead_code)]
#[path = "shop/client.rs"]
mod client;
#[allow(dead_code)]
#[path = "shop/purchase.rs"]
mod purchase;

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry::Value as AttributeValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{json, Value};
use tokio::sync::watch;

use client::{TempDir, TestShop};
use purchase::{address, fill_cart, stocked_product, ORDER};
use shop::ShopOptions;

/// Every span that ended, in order.
#[derive(Debug)]
struct Collector(watch::Sender<Vec<SpanData>>);

impl SpanExporter for Collector {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.send_modify(|spans| spans.extend(batch));
        std::future::ready(Ok(()))
    }
}

/// The spans every test's shop has ended so far: the subscriber is the process's, installed
/// once for all tests.
fn spans() -> watch::Receiver<Vec<SpanData>> {
    static SPANS: OnceLock<(telemetry::Telemetry, watch::Sender<Vec<SpanData>>)> = OnceLock::new();
    let (_, sender) = SPANS.get_or_init(|| {
        let (sender, _) = watch::channel(Vec::new());
        let telemetry = telemetry::init_with_exporter("shop", "warn", Collector(sender.clone()));
        (telemetry, sender)
    });
    sender.subscribe()
}

/// Waits until the spans of `trace` come from `services` and none waits for its parent.
async fn await_trace(
    spans: &mut watch::Receiver<Vec<SpanData>>,
    trace: TraceId,
    caller: SpanId,
    services: &[&str],
) -> Vec<SpanData> {
    let complete = tokio::time::timeout(
        Duration::from_secs(30),
        spans.wait_for(|spans| {
            let trace = Trace::of(spans, trace);
            let seen = trace.services();
            services.iter().all(|s| seen.contains(*s)) && trace.dangling(caller) == 0
        }),
    )
    .await
    .is_ok();
    let spans = spans.borrow().clone();
    let found = Trace::of(&spans, trace);
    assert!(
        complete,
        "the trace has {:?} with {} spans waiting for a parent",
        found.services(),
        found.dangling(caller)
    );
    spans
}

/// Posts an operation to the router as a call made in the caller's trace (`traceparent`).
async fn post_traced(
    shop: &TestShop,
    traceparent: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let request = shop
        .http
        .post(shop.shop.router_url())
        .header("traceparent", traceparent)
        .json(&json!({ "query": query, "variables": variables }));
    client::answer(request, token).await
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a AttributeValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn string_attribute(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|v| v.as_str().into_owned())
}

/// The spans of one trace, by id.
struct Trace<'a> {
    spans: HashMap<SpanId, &'a SpanData>,
}

impl<'a> Trace<'a> {
    fn of(spans: &'a [SpanData], trace: TraceId) -> Self {
        Self {
            spans: spans
                .iter()
                .filter(|s| s.span_context.trace_id() == trace)
                .map(|s| (s.span_context.span_id(), s))
                .collect(),
        }
    }

    /// Spans whose parent is neither in the trace nor `root_parent`: spans still running.
    fn dangling(&self, root_parent: SpanId) -> usize {
        self.spans
            .values()
            .filter(|s| s.parent_span_id != root_parent)
            .filter(|s| !self.spans.contains_key(&s.parent_span_id))
            .count()
    }

    fn parent(&self, span: &SpanData) -> Option<&'a SpanData> {
        self.spans.get(&span.parent_span_id).copied()
    }

    /// The `service` of the server or event-consumer span `span` ran in.
    fn service_of(&self, span: &SpanData) -> Option<String> {
        let mut current = Some(span);
        while let Some(span) = current {
            if matches!(span.span_kind, SpanKind::Server | SpanKind::Consumer) {
                return string_attribute(span, "service");
            }
            current = self.parent(span);
        }
        None
    }

    /// The services that answered a server span in this trace.
    fn services(&self) -> BTreeSet<String> {
        self.server_spans()
            .filter_map(|s| string_attribute(s, "service"))
            .collect()
    }

    fn server_spans(&self) -> impl Iterator<Item = &'a SpanData> + '_ {
        self.spans
            .values()
            .copied()
            .filter(|s| s.span_kind == SpanKind::Server)
    }
}

/// The services a checkout reaches while the customer waits: the router, orders, and those orders
/// calls (the response's products and payment come from catalog and payments).
const TOUCHED: [&str; 8] = [
    "accounts",
    "carts",
    "catalog",
    "inventory",
    "orders",
    "payments",
    "router",
    "shipping",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_checkout_is_one_trace_across_the_router_and_every_subgraph_it_touched() {
    let mut collector = spans();
    let shop = TestShop::start(10).await;
    let customer = shop.customer_token().await;
    let (product, _, _) = stocked_product(&shop, 2).await;
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let rates = shop
        .data(
            "query($input: ShippingRatesInput!) { shippingRates(input: $input) {
                rates { carrier service } } }",
            json!({ "input": { "address": address(),
                "lines": [{ "productId": product, "quantity": 1 }] } }),
            None,
        )
        .await;
    let rate = &rates["shippingRates"]["rates"][0];

    // The storefront's own trace: the checkout continues it.
    let trace_id = TraceId::from_hex("5c0ffee5c0ffee5c0ffee5c0ffee0001").unwrap();
    let caller = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let input = json!({ "cartId": cart, "shippingAddress": address(),
        "shippingMethod": { "carrier": rate["carrier"], "service": rate["service"] },
        "paymentToken": "tok_visa", "idempotencyKey": "traced-1" });
    let (_, response) = post_traced(
        &shop,
        &format!("00-{trace_id}-{caller}-01"),
        &format!(
            "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
                order {{ {ORDER} }} userErrors {{ code message }} }} }}"
        ),
        json!({ "input": input }),
        Some(&customer),
    )
    .await;
    let order = &response["data"]["checkout"]["order"];
    assert_eq!(order["status"], "PAID", "{response:#}");

    // Spans end as each process finishes its part.
    let spans = await_trace(&mut collector, trace_id, caller, &TOUCHED).await;
    let trace = Trace::of(&spans, trace_id);
    // (await_trace saw every service of TOUCHED; the consumers of the checkout's events may
    // have called more by now.)

    // One root: the router's request, a child of the storefront's span.
    let roots: Vec<_> = trace
        .spans
        .values()
        .filter(|s| s.parent_span_id == caller)
        .collect();
    assert_eq!(roots.len(), 1, "{roots:#?}");
    assert_eq!(
        string_attribute(roots[0], "service").as_deref(),
        Some("router")
    );
    assert!(roots[0].parent_span_is_remote);

    // The router calls subgraphs from fetch spans named by subgraph; every server span but the
    // router's is called from a client span: a router fetch or another subgraph's service call.
    for server in trace.server_spans() {
        let service = string_attribute(server, "service").unwrap();
        if service == "router" {
            continue;
        }
        let caller = trace
            .parent(server)
            .expect("a called service has its caller's span");
        assert_eq!(caller.span_kind, SpanKind::Client, "{caller:#?}");
        assert!(server.parent_span_is_remote, "{server:#?}");
        match caller.name.as_ref() {
            name if name.starts_with("fetch ") => {
                assert_eq!(name, format!("fetch {service}"));
                assert_eq!(string_attribute(caller, "subgraph"), Some(service.clone()));
                assert_eq!(trace.service_of(caller).as_deref(), Some("router"));
            }
            "service call" => {
                let url = string_attribute(caller, "url").unwrap();
                assert!(url.starts_with("http://"), "{url}");
                assert_ne!(trace.service_of(caller), Some(service.clone()));
            }
            other => panic!("{service} was called from {other:?}"),
        }
    }
    let called_by_orders: BTreeSet<String> = trace
        .server_spans()
        .filter(|s| trace.parent(s).is_some_and(|c| c.name == "service call"))
        .filter(|s| trace.service_of(trace.parent(s).unwrap()).as_deref() == Some("orders"))
        .filter_map(|s| string_attribute(s, "service"))
        .collect();
    for service in ["accounts", "carts", "inventory", "payments", "shipping"] {
        assert!(
            called_by_orders.contains(service),
            "orders called {called_by_orders:?}"
        );
    }

    // Database statements are spans of the service that ran them: orders inserted the order,
    // payments the charge; dataloader batches are spans of their own.
    let statements: Vec<_> = trace
        .spans
        .values()
        .filter(|s| attribute(s, "db.query.text").is_some())
        .collect();
    for (service, operation) in [("orders", "INSERT"), ("payments", "INSERT")] {
        assert!(
            statements.iter().any(|s| {
                trace.service_of(s).as_deref() == Some(service)
                    && s.name == operation
                    && s.start_time < s.end_time
            }),
            "no {operation} statement in {service}: {:#?}",
            statements
                .iter()
                .map(|s| (trace.service_of(s), s.name.clone()))
                .collect::<Vec<_>>()
        );
    }
    let batches: Vec<_> = trace
        .spans
        .values()
        .filter(|s| s.name.starts_with("batch "))
        .collect();
    assert!(
        batches.iter().any(
            |b| string_attribute(b, "loader").as_deref() == Some("ProductIdLoader")
                && trace.service_of(b).as_deref() == Some("catalog")
        ),
        "{:#?}",
        batches.iter().map(|b| &b.name).collect::<Vec<_>>()
    );
    assert!(statements.iter().any(|s| trace
        .parent(s)
        .is_some_and(|p| p.name.starts_with("batch "))));

    // The events the checkout raised carry its trace: their consumers' work joins it, as the
    // children of the span that raised them.
    let consumed = |spans: &[SpanData]| {
        Trace::of(spans, trace_id).spans.values().any(|s| {
            s.span_kind == SpanKind::Consumer
                && string_attribute(s, "topic").as_deref() == Some("order.paid")
                && string_attribute(s, "service").as_deref() == Some("notifications")
        })
    };
    let handled = tokio::time::timeout(
        Duration::from_secs(30),
        collector.wait_for(|spans| consumed(spans)),
    )
    .await
    .is_ok();
    assert!(handled, "no consumer of order.paid in the checkout's trace");
    let later = collector.borrow().clone();
    let with_events = Trace::of(&later, trace_id);
    let consumer = with_events
        .spans
        .values()
        .find(|s| {
            s.span_kind == SpanKind::Consumer
                && string_attribute(s, "service").as_deref() == Some("notifications")
                && string_attribute(s, "topic").as_deref() == Some("order.paid")
        })
        .unwrap();
    let raised_in = with_events
        .parent(consumer)
        .expect("the raising span is in the trace");
    assert_eq!(with_events.service_of(raised_in).as_deref(), Some("orders"));
    assert!(consumer.parent_span_is_remote);

    // Each span lies within its parent's time, give or take clock rounding.
    let slack = Duration::from_millis(5);
    for span in trace.spans.values() {
        if let Some(parent) = trace.parent(span) {
            assert!(
                span.start_time + slack >= parent.start_time,
                "{} starts before {}",
                span.name,
                parent.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_shop_traces_its_sqlite_statements_too() {
    let mut spans = spans();
    let data_dir = TempDir::new();
    let mut options = ShopOptions::new(&data_dir.0);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 5;
    let shop = TestShop::with_options(options, data_dir).await;

    let trace = TraceId::from_hex("5c0ffee5c0ffee5c0ffee5c0ffee0002").unwrap();
    let caller = SpanId::from_hex("00f067aa0ba902b8").unwrap();
    let (_, response) = post_traced(
        &shop,
        &format!("00-{trace}-{caller}-01"),
        "{ products(first: 3) { edges { node { id name
                availability { availableQuantity } } } } }",
        json!({}),
        None,
    )
    .await;
    assert_eq!(
        response["data"]["products"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{response:#}"
    );

    let spans = await_trace(
        &mut spans,
        trace,
        caller,
        &["router", "catalog", "inventory"],
    )
    .await;
    let trace = Trace::of(&spans, trace);
    for service in ["catalog", "inventory"] {
        assert!(
            trace.spans.values().any(|s| s.name == "SELECT"
                && attribute(s, "db.query.text").is_some()
                && trace.service_of(s).as_deref() == Some(service)),
            "no statement of {service} in the trace"
        );
    }
}
