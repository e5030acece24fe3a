//! Deduplication: identical in-flight query requests share one subgraph call (also between
//! different operations that send a subgraph the same request), identical in-flight client
//! operations share one execution; nothing is ever shared across different variables or
//! tokens, nor for mutations. A fixture's closed gate holds the subgraph's answers so that
//! requests are provably in flight together; for a burst through a deep plan, subgraphs that
//! answer slowly keep each stage's calls in flight while the others arrive.

use std::future::Future;

use serde_json_bytes::json;

use apollo_compiler::response::JsonValue;
use router::config::RouterConfig;

use std::collections::HashMap;

use crate::common::{resolver, RawResponse, TestGateway};

const QUERY: &str = "{ users { id name } }";

/// The shop's accounts subgraph, with `user(id:)` answered by id.
async fn accounts_gateway(configure: impl FnOnce(&mut RouterConfig)) -> TestGateway {
    let users = users_answer()["data"]["users"].clone();
    let accounts = resolver(move |call| match (call.type_name, call.field) {
        ("Query", "user") => {
            let id = call.args.get("id")?.clone();
            let found = users.as_array()?.iter().find(|u| u["id"] == id).cloned();
            Some(Ok(found.unwrap_or(JsonValue::Null)))
        }
        _ => None,
    });
    let resolvers = HashMap::from([("accounts".to_string(), accounts)]);
    TestGateway::start_with("shop", resolvers, configure).await
}

fn client_dedupe_off(config: &mut RouterConfig) {
    config.dedupe.client_requests = false;
}

/// Awaits `condition` while the router and the subgraphs make progress on this runtime.
async fn until(condition: impl Fn() -> bool) {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the condition holds within 10 s");
}

fn spawn<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::spawn(future)
}

fn send(
    gw: &TestGateway,
    body: JsonValue,
    token: Option<&str>,
) -> tokio::task::JoinHandle<RawResponse> {
    let client = reqwest::Client::new();
    let url = gw.url.clone();
    let token = token.map(str::to_string);
    spawn(async move {
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        RawResponse {
            status,
            content_type: String::new(),
            body,
        }
    })
}

fn users_answer() -> JsonValue {
    json!({"data": {"users": [
        {"id": "u1", "name": "Ada Lovelace"},
        {"id": "u2", "name": "Alan Turing"},
        {"id": "u3", "name": "Grace Hopper"}
    ]}})
}

#[tokio::test]
async fn identical_concurrent_queries_reach_the_subgraph_once() {
    let gw = accounts_gateway(client_dedupe_off).await;
    let gate = gw.subgraph("accounts").close_gate();
    let first = send(&gw, json!({"query": QUERY}), None);
    until(|| gw.subgraph("accounts").requests() == 1).await;
    let others: Vec<_> = (0..4)
        .map(|_| send(&gw, json!({"query": QUERY}), None))
        .collect();
    until(|| gw.state.transport.calls_shared() == 4).await;
    gate.open();
    assert_eq!(first.await.unwrap().body, users_answer());
    for other in others {
        assert_eq!(other.await.unwrap().body, users_answer());
    }
    assert_eq!(gw.subgraph("accounts").requests(), 1);
    assert_eq!(gw.state.client_dedupe.executions_shared(), 0);

    // Once the call ended, the next identical query calls again.
    gw.query(QUERY).await;
    assert_eq!(gw.subgraph("accounts").requests(), 2);
}

#[tokio::test]
async fn identical_concurrent_client_operations_share_one_execution() {
    let gw = accounts_gateway(|_| {}).await;
    let gate = gw.subgraph("accounts").close_gate();
    let first = send(&gw, json!({"query": QUERY}), Some("token-a"));
    until(|| gw.subgraph("accounts").requests() == 1).await;
    let others: Vec<_> = (0..4)
        .map(|_| send(&gw, json!({"query": QUERY}), Some("token-a")))
        .collect();
    until(|| gw.state.client_dedupe.executions_shared() == 4).await;
    gate.open();
    assert_eq!(first.await.unwrap().body, users_answer());
    for other in others {
        assert_eq!(other.await.unwrap().body, users_answer());
    }
    assert_eq!(gw.subgraph("accounts").requests(), 1);
}

#[tokio::test]
async fn requests_that_differ_in_any_key_part_never_share() {
    for configure in [client_dedupe_off as fn(&mut RouterConfig), |_| {}] {
        let gw = accounts_gateway(configure).await;
        let gate = gw.subgraph("accounts").close_gate();
        let by_id = "query($id: ID!) { user(id: $id) { id name } }";
        let requests = [
            (json!({"query": QUERY}), Some("token-a")),
            (json!({"query": QUERY}), Some("token-b")),
            (json!({"query": QUERY}), None),
            (
                json!({"query": "{ users { id username } }"}),
                Some("token-a"),
            ),
            (
                json!({"query": by_id, "variables": {"id": "u1"}}),
                Some("token-a"),
            ),
            (
                json!({"query": by_id, "variables": {"id": "u2"}}),
                Some("token-a"),
            ),
        ];
        let pending: Vec<_> = requests
            .iter()
            .map(|(body, token)| send(&gw, body.clone(), *token))
            .collect();
        // Each request makes its own call: the gate opens only once all six are waiting.
        until(|| gw.subgraph("accounts").requests() == requests.len()).await;
        gate.open();
        let answers: Vec<JsonValue> = futures::future::join_all(pending)
            .await
            .into_iter()
            .map(|r| r.unwrap().body)
            .collect();
        assert_eq!(answers[0], users_answer());
        assert_eq!(answers[1], users_answer());
        assert_eq!(answers[2], users_answer());
        assert_eq!(
            answers[3],
            json!({"data": {"users": [
                {"id": "u1", "username": "@ada"},
                {"id": "u2", "username": "@alan"},
                {"id": "u3", "username": "@grace"}
            ]}})
        );
        assert_eq!(
            answers[4],
            json!({"data": {"user": {"id": "u1", "name": "Ada Lovelace"}}})
        );
        assert_eq!(
            answers[5],
            json!({"data": {"user": {"id": "u2", "name": "Alan Turing"}}})
        );
        let tokens: Vec<Option<String>> = gw
            .subgraph("accounts")
            .headers
            .lock()
            .unwrap()
            .iter()
            .map(|h| {
                h.get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(
            tokens
                .iter()
                .filter(|t| t.as_deref() == Some("Bearer token-b"))
                .count(),
            1
        );
        assert_eq!(tokens.iter().filter(|t| t.is_none()).count(), 1);
        assert_eq!(gw.state.transport.calls_shared(), 0);
        assert_eq!(gw.state.client_dedupe.executions_shared(), 0);
    }
}

#[tokio::test]
async fn identical_concurrent_mutations_each_run() {
    let gw = crate::http::counter_gateway().await;
    let gate = gw.subgraph("counter").close_gate();
    let mutation = json!({"query": "mutation { increment }"});
    let pending: Vec<_> = (0..3).map(|_| send(&gw, mutation.clone(), None)).collect();
    until(|| gw.subgraph("counter").requests() == 3).await;
    gate.open();
    let mut values: Vec<i64> = futures::future::join_all(pending)
        .await
        .into_iter()
        .map(|r| r.unwrap().body["data"]["increment"].as_i64().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, [1, 2, 3]);
}

#[tokio::test]
async fn a_failed_shared_call_fails_each_waiter_with_its_own_error() {
    for configure in [client_dedupe_off as fn(&mut RouterConfig), |_| {}] {
        let gw = accounts_gateway(configure).await;
        gw.subgraph("accounts")
            .set_behaviour(crate::common::fixture::Behaviour::Status(502));
        let gate = gw.subgraph("accounts").close_gate();
        let pending: Vec<_> = (0..3)
            .map(|_| send(&gw, json!({"query": QUERY}), None))
            .collect();
        until(|| gw.subgraph("accounts").requests() == 1).await;
        until(|| {
            gw.state.transport.calls_shared() + gw.state.client_dedupe.executions_shared() == 2
        })
        .await;
        gate.open();
        for response in futures::future::join_all(pending).await {
            let body = response.unwrap().body;
            assert_eq!(body["data"], JsonValue::Null, "{body:?}");
            let errors = body["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 1, "{body:?}");
            assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
            assert_eq!(errors[0]["extensions"]["serviceName"], "accounts");
            assert_eq!(
                errors[0]["message"],
                "Request to subgraph \"accounts\" failed: the subgraph answered with HTTP status 502"
            );
        }
        assert_eq!(gw.subgraph("accounts").requests(), 1);
    }
}

#[tokio::test]
async fn a_client_that_goes_away_does_not_cancel_the_others() {
    for configure in [client_dedupe_off as fn(&mut RouterConfig), |_| {}] {
        let gw = accounts_gateway(configure).await;
        let gate = gw.subgraph("accounts").close_gate();
        let first = send(&gw, json!({"query": QUERY}), None);
        until(|| gw.subgraph("accounts").requests() == 1).await;
        let others: Vec<_> = (0..2)
            .map(|_| send(&gw, json!({"query": QUERY}), None))
            .collect();
        until(|| {
            gw.state.transport.calls_shared() + gw.state.client_dedupe.executions_shared() == 2
        })
        .await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        gate.open();
        for other in others {
            assert_eq!(other.await.unwrap().body, users_answer());
        }
        assert_eq!(gw.subgraph("accounts").requests(), 1);
    }
}

#[tokio::test]
async fn deduplication_can_be_switched_off_per_subgraph() {
    let gw = accounts_gateway(|config| {
        client_dedupe_off(config);
        config.subgraphs.get_mut("accounts").unwrap().dedupe = Some(false);
    })
    .await;
    let gate = gw.subgraph("accounts").close_gate();
    let pending: Vec<_> = (0..3)
        .map(|_| send(&gw, json!({"query": QUERY}), None))
        .collect();
    until(|| gw.subgraph("accounts").requests() == 3).await;
    gate.open();
    for response in futures::future::join_all(pending).await {
        assert_eq!(response.unwrap().body, users_answer());
    }
}

/// The public gateway benchmark's subgraphs, each answering after `latency` (every client
/// request of a burst arrives while the first one's calls are in flight, and their next
/// calls while the first next one is), with client deduplication off: Hive Router's default.
async fn gateway_bench(latency: std::time::Duration) -> TestGateway {
    use crate::common::fixture::{Behaviour, FixtureSubgraph};
    use crate::common::gateway_bench::subgraph_data;
    use std::sync::Arc;

    let dir = crate::common::fixtures_dir().join("gateway-bench");
    let subgraphs = subgraph_data()
        .into_iter()
        .map(|(name, data)| {
            let sdl = std::fs::read_to_string(dir.join(format!("{name}.graphql"))).unwrap();
            let subgraph = FixtureSubgraph::new(name, &sdl, data, None);
            subgraph.set_behaviour(Behaviour::Delay(latency));
            Arc::new(subgraph)
        })
        .collect();
    let supergraph = std::fs::read_to_string(dir.join("supergraph.graphql")).unwrap();
    TestGateway::start_subgraphs(subgraphs, &supergraph, client_dedupe_off).await
}

fn total_calls(gw: &TestGateway) -> usize {
    gw.request_counts().values().sum()
}

#[tokio::test]
async fn a_burst_of_identical_and_near_identical_operations_calls_each_subgraph_request_once() {
    use crate::common::gateway_bench::{TEST_QUERY, TOP_PRODUCTS};

    let gw = gateway_bench(std::time::Duration::from_millis(500)).await;
    // One TestQuery alone: every subgraph request its plan makes, once.
    let alone = send(
        &gw,
        json!({"query": TEST_QUERY, "operationName": "TestQuery"}),
        None,
    )
    .await
    .unwrap();
    assert!(alone.body.get("errors").is_none(), "{:?}", alone.body);
    let calls_alone = total_calls(&gw);
    assert!(
        calls_alone >= 6,
        "the deep query crosses the subgraphs often"
    );

    // At once: the same operation 20 times; the same document under another name and with
    // its fields in another order; and an operation whose plan is a part of TestQuery's
    // (its subgraph requests are among TestQuery's).
    let renamed = TEST_QUERY.replace("query TestQuery", "query Storefront");
    let reordered = TEST_QUERY.replace(
        "fragment User on User {\n  id\n  username\n  name\n}",
        "fragment User on User {\n  name\n  id\n  username\n}",
    );
    assert_ne!(reordered, TEST_QUERY);
    let part = "{ topProducts { inStock name price shippingEstimate upc weight } }";
    let mut burst: Vec<JsonValue> = (0..20)
        .map(|_| json!({"query": TEST_QUERY, "operationName": "TestQuery"}))
        .collect();
    burst.push(json!({"query": renamed, "operationName": "Storefront"}));
    burst.push(json!({"query": reordered, "operationName": "TestQuery"}));
    burst.push(json!({"query": part}));
    let sent: Vec<_> = burst.into_iter().map(|b| send(&gw, b, None)).collect();
    let last = sent.len() - 1;
    for (i, answer) in sent.into_iter().enumerate() {
        let answer = answer.await.unwrap();
        assert!(answer.body.get("errors").is_none(), "{:?}", answer.body);
        if i < last {
            assert!(answer.body == alone.body, "answer {i} differs");
        } else {
            let products = answer.body["data"]["topProducts"].as_array().unwrap();
            assert_eq!(products.len(), TOP_PRODUCTS);
        }
    }
    assert_eq!(
        total_calls(&gw) - calls_alone,
        calls_alone,
        "23 operations called the subgraphs as often as one: {:?}",
        gw.request_counts()
    );
}

#[tokio::test]
async fn subgraph_requests_are_identical_by_what_the_subgraph_is_sent() {
    let gw = accounts_gateway(client_dedupe_off).await;
    let gate = gw.subgraph("accounts").close_gate();
    // Both come from this machine; what they claim before it is theirs to forge, and the
    // subgraph is sent the same address for both.
    let from = |forged: &'static str| {
        let (client, url) = (reqwest::Client::new(), gw.url.clone());
        spawn(async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header("x-forwarded-for", forged)
                .body(serde_json::to_vec(&json!({"query": QUERY})).unwrap())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        })
    };
    let first = from("6.6.6.6");
    until(|| gw.subgraph("accounts").requests() == 1).await;
    let second = from("7.7.7.7");
    until(|| gw.state.transport.calls_shared() == 1).await;
    gate.open();
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first, second);
    assert_eq!(gw.subgraph("accounts").requests(), 1);
    let sent = gw.subgraph("accounts").headers.lock().unwrap()[0].clone();
    assert_eq!(sent.get("x-forwarded-for").unwrap(), "127.0.0.1");
}

#[tokio::test]
async fn a_new_operation_sent_by_many_clients_at_once_is_prepared_once() {
    use crate::common::gateway_bench::TEST_QUERY;

    let gw = gateway_bench(std::time::Duration::ZERO).await;
    // TestQuery is 87 KB deep: planning it takes long enough that every request of the burst
    // misses the plan cache while the first one's preparation runs.
    let burst: Vec<_> = (0..10)
        .map(|_| {
            send(
                &gw,
                json!({"query": TEST_QUERY, "operationName": "TestQuery"}),
                None,
            )
        })
        .collect();
    let answers: Vec<RawResponse> = futures::future::join_all(burst)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        answers[0].body.get("errors").is_none(),
        "{:?}",
        answers[0].body
    );
    assert!(answers.iter().all(|answer| answer.body == answers[0].body));
    assert_eq!(
        gw.state.preparer.prepared(),
        1,
        "planned once for ten requests"
    );

    // A request that fails validation waits like any other, and gets the same clear error.
    let invalid = TEST_QUERY.replacen("topProducts", "bottomProducts", 1);
    let burst: Vec<_> = (0..5)
        .map(|_| send(&gw, json!({"query": invalid}), None))
        .collect();
    for answer in futures::future::join_all(burst).await {
        let body = answer.unwrap().body;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{body:?}"
        );
    }
}
