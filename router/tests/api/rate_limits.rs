//! Rate limits: a client over its limit gets 429 with `Retry-After` while others carry on, and
//! replicas sharing Redis hold a client to one limit between them, exactly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use router::config::RouterConfig;
use serde_json::{json, Value};

use crate::common::TestGateway;

/// A router on the `mutations` fixture counting clients by the address the proxy in front of it
/// saw (one trusted hop), so a test can be many clients at once.
async fn replica(configure: impl Fn(&mut RouterConfig)) -> TestGateway {
    TestGateway::start_with("mutations", Default::default(), |config| {
        config.rate_limits.enabled = true;
        config.rate_limits.trusted_proxy_hops = 1;
        configure(config);
    })
    .await
}

async fn send(
    http: &reqwest::Client,
    url: &str,
    client: &str,
    query: &str,
) -> (u16, Option<String>, Value) {
    let response = http
        .post(url)
        .header("x-forwarded-for", client)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_and_others_and_its_mutations_carry_on() {
    let gateway = replica(|config| {
        config.rate_limits.queries_per_second = 1.0;
        config.rate_limits.query_burst = 3.0;
    })
    .await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            send(&http, &gateway.url, "203.0.113.1", "{ __typename }")
                .await
                .0,
            200
        );
    }
    let (status, retry_after, body) =
        send(&http, &gateway.url, "203.0.113.1", "{ __typename }").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfterMs"]
            .as_u64()
            .unwrap()
            <= 1000
    );
    // Another client, and the same client's mutations, have buckets of their own.
    assert_eq!(
        send(&http, &gateway.url, "203.0.113.2", "{ __typename }")
            .await
            .0,
        200
    );
    assert_eq!(
        send(
            &http,
            &gateway.url,
            "203.0.113.1",
            "mutation { __typename }"
        )
        .await
        .0,
        200
    );
    assert_eq!(gateway.state.rate_limiter.as_ref().unwrap().refused(), 1);
}

#[tokio::test]
async fn replicas_sharing_redis_hold_a_flooding_client_to_one_exact_limit() {
    let namespace = primitives::id::new_id("ratelimit-test");
    let (per_second, burst) = (50.0, 300.0);
    let configure = |config: &mut RouterConfig| {
        config.redis_url = Some("redis://127.0.0.1:6379".into());
        config.redis_namespace = namespace.clone();
        config.rate_limits.queries_per_second = per_second;
        config.rate_limits.query_burst = burst;
    };
    let replicas = [replica(configure).await, replica(configure).await];
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let http = reqwest::Client::new();

    // 1,000 requests from one client, as fast as the two replicas take them, alternating.
    let (allowed, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let flood = futures::stream::iter(0..1000)
        .map(|i| {
            let (http, url) = (http.clone(), urls[i % 2].clone());
            let (allowed, refused) = (allowed.clone(), refused.clone());
            async move {
                let (status, retry_after, _) =
                    send(&http, &url, "198.51.100.7", "{ __typename }").await;
                match status {
                    200 => allowed.fetch_add(1, Ordering::SeqCst),
                    429 => {
                        assert!(retry_after.is_some());
                        refused.fetch_add(1, Ordering::SeqCst)
                    }
                    other => panic!("unexpected status {other}"),
                };
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    // Meanwhile another client keeps working through both replicas.
    let other = async {
        for i in 0..20 {
            let (status, _, body) =
                send(&http, &urls[i % 2], "198.51.100.8", "{ __typename }").await;
            assert_eq!(status, 200, "{body}");
        }
    };
    futures::join!(flood, other);
    let elapsed = started.elapsed().as_secs_f64();

    let allowed = allowed.load(Ordering::SeqCst) as f64;
    assert_eq!(allowed as usize + refused.load(Ordering::SeqCst), 1000);
    // The burst, plus what refilled while the flood lasted: one limit for both replicas.
    let expected = burst + per_second * elapsed;
    assert!(
        allowed <= expected + 1.0 && allowed >= burst,
        "{allowed} allowed; one shared bucket allows {expected:.1} in {elapsed:.2} s"
    );
    assert!(
        (allowed - expected).abs() / expected < 0.05,
        "{allowed} allowed; one shared bucket allows {expected:.1} in {elapsed:.2} s"
    );
    let refused_by_replicas: u64 = replicas
        .iter()
        .map(|r| r.state.rate_limiter.as_ref().unwrap().refused())
        .sum();
    assert_eq!(refused_by_replicas as usize, 1000 - allowed as usize);
}
