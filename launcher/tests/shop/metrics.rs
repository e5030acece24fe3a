//! `/metrics` of every process (the router and each subgraph) is Prometheus text that moves
//! when traffic flows.

use prometheus_parse::{Sample, Scrape, Value};
use serde_json::json;

use crate::client::{published, TestShop};

async fn scrape(shop: &TestShop, base: &str) -> Scrape {
    let response = shop
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{base}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

/// The sum of a series' samples whose labels include `labels`.
fn total(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s: &&Sample| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn every_process_serves_prometheus_metrics_that_move_with_traffic() {
    let shop = TestShop::start(2).await;
    let router = format!("http://{}", shop.shop.router_metrics.unwrap());
    let subgraphs: Vec<(&str, String)> = shop
        .shop
        .subgraphs
        .iter()
        .map(|s| (s.name, format!("http://{}", s.address)))
        .collect();

    // The public port does not tell the traffic's shape: /metrics is on a listener of its own.
    let public = shop
        .http
        .get(format!("http://{}/metrics", shop.shop.router))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let before = scrape(&shop, &router).await;
    let (navigation, _) = published("Navigation");
    let (status, body) = shop
        .post_body(
            &shop.shop.router_url(),
            crate::client::by_hash(&navigation, json!({})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = scrape(&shop, &router).await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        total(&after, metric, labels) - total(&before, metric, labels)
    };
    let request = [
        ("service", "router"),
        ("operation", "Navigation"),
        ("outcome", "ok"),
    ];
    // The recorder is the process's: other tests' shops count into it too, so "at least".
    assert!(moved("graphql_requests_total", &request) >= 1.0);
    assert!(
        moved(
            "graphql_request_duration_seconds",
            &[("operation", "Navigation")]
        ) >= 1.0
    );
    assert!(
        moved(
            "router_subgraph_fetch_duration_seconds",
            &[("subgraph", "catalog")]
        ) >= 1.0
    );
    assert!(moved("router_plan_cache_total", &[]) >= 1.0);

    // Each subgraph counts its own requests and shows its database pool.
    for (name, base) in &subgraphs {
        let before = scrape(&shop, base).await;
        let answer = shop
            .http
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{name}");
        let after = scrape(&shop, base).await;
        let labels = [("service", *name), ("route", "/graphql"), ("status", "200")];
        assert!(
            total(&after, "http_requests_total", &labels)
                - total(&before, "http_requests_total", &labels)
                >= 1.0,
            "{name}"
        );
        assert!(
            after.samples.iter().any(
                |s| s.metric == "db_pool_connections" && s.labels.get("service") == Some(*name)
            ),
            "{name}"
        );
    }
}
