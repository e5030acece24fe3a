//! The `router` binary: configuration errors name the setting; subgraph URLs come from the
//! environment; it serves and stops on SIGTERM.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use apollo_compiler::response::JsonValue;

use crate::common::fixture::{load_case, serve, FixtureSubgraph};
use crate::common::fixtures_dir;
use crate::common::gateway_bench::{subgraph_data, TEST_QUERY, TOP_PRODUCTS, USERS};

fn router() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_router"));
    command
        .arg("--supergraph")
        .arg(fixtures_dir().join("shop/supergraph.graphql"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits until the router logs "router listening", which it does once its socket is bound.
async fn until_listening(child: &mut std::process::Child) {
    let stdout = child.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("router listening"))
    });
    let ready = tokio::time::timeout(Duration::from_secs(30), ready).await;
    assert!(matches!(ready, Ok(Ok(true))), "the router started");
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// The router on `port`, with the shop case's fixture subgraphs served and named by
/// environment (the supergraph's URLs are placeholders; `ROUTER_SUBGRAPH_<NAME>_URL` points at
/// the fixtures).
async fn router_on_shop_fixtures(port: u16) -> (Command, Vec<Arc<FixtureSubgraph>>) {
    let mut command = router();
    command.env("ROUTER_LISTEN", format!("127.0.0.1:{port}"));
    let subgraphs = load_case(&fixtures_dir().join("shop"), &HashMap::new());
    for subgraph in &subgraphs {
        let url = serve(subgraph.clone()).await;
        command.env(
            format!("ROUTER_SUBGRAPH_{}_URL", subgraph.name.to_uppercase()),
            url,
        );
    }
    (command, subgraphs)
}

/// The router's answer to a GraphQL request `body` (JSON) sent by `client` to `url`.
async fn post_graphql(client: &reqwest::Client, url: &str, body: &'static str) -> String {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn sigterm(child: &std::process::Child) {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
}

async fn assert_exits_cleanly(mut child: std::process::Child) {
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_bad_setting_stops_start_up_with_its_name() {
    let output = router().env("ROUTER_MAX_DEPTH", "deep").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ROUTER_MAX_DEPTH"), "{stderr}");

    let output = router()
        .arg("--config")
        .arg("/nonexistent/router.toml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/router.toml"));
}

#[tokio::test]
async fn serves_subgraphs_named_by_environment_and_stops_gracefully_on_sigterm() {
    let port = free_port();
    let (mut command, _) = router_on_shop_fixtures(port).await;
    let mut child = command.spawn().unwrap();
    until_listening(&mut child).await;
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert!(health.status().is_success());
    let answer = post_graphql(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{port}/graphql"),
        r#"{"query":"{ me { name } latestReviews { id } }"}"#,
    )
    .await;
    assert!(
        answer.starts_with(r#"{"data":{"me":{"name":"Ada Lovelace"},"latestReviews":[{"id":"r1"}"#),
        "{answer}"
    );
    sigterm(&child);
    assert_exits_cleanly(child).await;
}

/// What a newcomer trying the router on their own supergraph does: `router --supergraph FILE`
/// and nothing else (but where to listen). The public gateway benchmark's deep `TestQuery`,
/// estimated far above the 10,000 the router once refused by default, is answered in full.
#[tokio::test]
async fn with_no_configuration_the_gateway_benchmarks_query_is_answered_with_data() {
    let dir = fixtures_dir().join("gateway-bench");
    let mut supergraph = std::fs::read_to_string(dir.join("supergraph.graphql")).unwrap();
    for (name, data) in subgraph_data() {
        let sdl = std::fs::read_to_string(dir.join(format!("{name}.graphql"))).unwrap();
        let url = serve(Arc::new(FixtureSubgraph::new(name, &sdl, data, None))).await;
        supergraph = supergraph.replace(&format!("http://127.0.0.1:4000/{name}"), &url);
    }
    let file = std::env::temp_dir().join(format!(
        "gateway-bench-supergraph-{}.graphql",
        std::process::id()
    ));
    std::fs::write(&file, supergraph).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_router"))
        .arg("--supergraph")
        .arg(&file)
        .env("ROUTER_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    until_listening(&mut child).await;

    let body = serde_json::json!({
        "query": TEST_QUERY,
        "operationName": "TestQuery",
        "extensions": {"cost": true}
    });
    let answer: JsonValue = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&file).unwrap();

    assert!(answer.get("errors").is_none(), "{answer:?}");
    let users = answer["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), USERS);
    assert!(users
        .iter()
        .all(|u| u["reviews"].as_array().is_some_and(|r| !r.is_empty())));
    let products = answer["data"]["topProducts"].as_array().unwrap();
    assert_eq!(products.len(), TOP_PRODUCTS);
    let deepest = &answer["data"]["users"][0]["reviews"][0]["product"]["reviews"][0]["author"]
        ["reviews"][0]["product"];
    assert!(deepest["shippingEstimate"].is_i64(), "{deepest:?}");
    let cost = &answer["extensions"]["cost"];
    assert!(cost["estimated"].as_u64().unwrap() > 10_000, "{cost:?}");
    assert_eq!(cost["max"], JsonValue::Null);
}

/// With several serving threads (`ROUTER_HTTP_THREADS`), clients on many connections at once
/// are all answered, and a request still waiting for its subgraph when SIGTERM comes is
/// answered before the router exits.
#[tokio::test]
async fn serving_threads_answer_every_connection_and_finish_what_is_in_flight_on_sigterm() {
    let port = free_port();
    let (mut command, subgraphs) = router_on_shop_fixtures(port).await;
    command.env("ROUTER_HTTP_THREADS", "3");
    let reviews = subgraphs
        .into_iter()
        .find(|subgraph| subgraph.name == "reviews")
        .expect("the shop case has a reviews subgraph");
    let mut child = command.spawn().unwrap();
    until_listening(&mut child).await;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let ask = |url: String| async move {
        // A client of its own: a connection of its own, accepted by whichever thread takes it.
        let query = r#"{"query":"{ me { name } latestReviews { id } }"}"#;
        post_graphql(&reqwest::Client::new(), &url, query).await
    };
    let answers = futures::future::join_all((0..24).map(|_| ask(url.clone()))).await;
    for answer in &answers {
        assert!(
            answer.contains(r#""latestReviews":[{"id":"r1"}"#),
            "{answer}"
        );
    }

    let gate = reviews.close_gate();
    let before = reviews.requests();
    let in_flight = tokio::spawn(ask(url));
    while reviews.requests() == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sigterm(&child);
    // Shutting down, every thread stops accepting: then new connections are refused.
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!in_flight.is_finished());
    gate.open();
    let answer = in_flight.await.unwrap();
    assert!(
        answer.contains(r#""latestReviews":[{"id":"r1"}"#),
        "{answer}"
    );
    assert_exits_cleanly(child).await;
}

/// Connections are shared out evenly among serving threads, whichever thread accepts them:
/// with two threads, twenty clients connecting one after another are served ten by each
/// (`router_http_connections` on `/metrics`).
#[tokio::test]
async fn serving_threads_share_connections_evenly() {
    let (port, metrics_port) = (free_port(), free_port());
    let (mut command, _subgraphs) = router_on_shop_fixtures(port).await;
    command
        .env("ROUTER_HTTP_THREADS", "2")
        .env("ROUTER_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"));
    let mut child = command.spawn().unwrap();
    until_listening(&mut child).await;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let mut clients = Vec::new();
    for _ in 0..20 {
        // A client of its own keeps its connection open after its answer.
        let client = reqwest::Client::new();
        let answer = post_graphql(&client, &url, r#"{"query":"{ latestReviews { id } }"}"#).await;
        assert!(answer.contains(r#""id":"r1""#), "{answer}");
        clients.push(client);
    }
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for thread in 0..2 {
        let series = format!("router_http_connections{{thread=\"{thread}\"}} 10");
        assert!(metrics.contains(&series), "{series} in:\n{metrics}");
    }
    drop(clients);
    sigterm(&child);
    assert_exits_cleanly(child).await;
}
