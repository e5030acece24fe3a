//! The shop's edges against abuse: slow and idle clients are cut off while everyone else is
//! served, and a subgraph's port serves only the router and other services.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use accounts::ClientKind;
use futures_util::future::join_all;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{error_code, TestShop};

/// How a slow client behaves once connected.
#[derive(Clone, Copy, Debug)]
enum Slowness {
    /// Sends the start of a request's headers, then nothing.
    IdleInHeaders,
    /// Sends headers one byte at a time, never finishing them.
    TricklingHeaders,
    /// Sends complete headers announcing a body, then the body a byte at a time.
    TricklingBody,
    /// Sends one request, reads its answer and keeps the connection without another.
    IdleAfterRequest,
}

/// Connects and behaves as `slowness` says until the server closes the connection; returns how
/// long that took, or `None` when it was still open after `give_up`.
async fn slow_client(
    address: SocketAddr,
    slowness: Slowness,
    give_up: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    let opening: &[u8] = match slowness {
        Slowness::IdleInHeaders => b"POST /graphql HTTP/1.1\r\nHost: x\r\n",
        Slowness::TricklingHeaders => b"POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        Slowness::TricklingBody => {
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        }
        Slowness::IdleAfterRequest => b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    stream.write_all(opening).await.unwrap();
    let mut buffer = [0u8; 1024];
    let closed = async {
        loop {
            tokio::select! {
                read = stream.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue, // an answer (a 408, the health check) before the close
                },
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    if matches!(slowness, Slowness::IdleInHeaders | Slowness::IdleAfterRequest) {
                        continue;
                    }
                    if stream.write_all(b"a").await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(give_up, closed)
        .await
        .ok()
        .map(|()| started.elapsed())
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_while_everyone_else_is_served() {
    let shop = TestShop::start_with(0, |options| {
        for prefix in ["ROUTER_HTTP", "HTTP"] {
            options.set(&format!("{prefix}_HEADER_READ_TIMEOUT_MS"), "1000");
            options.set(&format!("{prefix}_IDLE_TIMEOUT_MS"), "1500");
            options.set(&format!("{prefix}_REQUEST_TIMEOUT_MS"), "2000");
        }
    })
    .await;
    let router = shop.shop.router;
    let accounts = shop.shop.address("accounts");
    let give_up = Duration::from_secs(15);
    let mut attackers = Vec::new();
    for (address, slowness, count) in [
        (router, Slowness::IdleInHeaders, 200),
        (router, Slowness::TricklingHeaders, 50),
        (router, Slowness::TricklingBody, 50),
        (router, Slowness::IdleAfterRequest, 50),
        (accounts, Slowness::IdleInHeaders, 50),
        (accounts, Slowness::IdleAfterRequest, 20),
        (accounts, Slowness::TricklingBody, 20),
    ] {
        for _ in 0..count {
            let attacker = tokio::spawn(slow_client(address, slowness, give_up));
            attackers.push((slowness, attacker));
        }
    }

    // Meanwhile ordinary requests are answered, through the router and by the subgraphs.
    for _ in 0..10 {
        let body = shop.data("{ __typename }", json!({}), None).await;
        assert_eq!(body["__typename"], "Query");
        let jwks = shop
            .http
            .get(format!("http://{accounts}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(jwks.status(), 200);
    }

    // Every slow connection was closed, each within its limit and some slack.
    let (kinds, tasks): (Vec<Slowness>, Vec<_>) = attackers.into_iter().unzip();
    let closed: Vec<Option<Duration>> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for kind in [
        Slowness::IdleInHeaders,
        Slowness::TricklingHeaders,
        Slowness::TricklingBody,
        Slowness::IdleAfterRequest,
    ] {
        let slowest = kinds
            .iter()
            .zip(&closed)
            .filter(|(k, _)| std::mem::discriminant(*k) == std::mem::discriminant(&kind))
            .filter_map(|(_, c)| *c)
            .max();
        println!("{kind:?}: slowest closed after {slowest:?}");
    }
    let still_open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        still_open,
        0,
        "{still_open} of {} still open after {give_up:?}",
        closed.len()
    );
    let slowest = closed.iter().flatten().max().unwrap();
    assert!(*slowest < Duration::from_secs(10), "{slowest:?}");
}

/// Posts straight to a subgraph's port.
async fn at_port(
    shop: &TestShop,
    subgraph: &str,
    query: &str,
    token: Option<&str>,
    forwarded_for: Option<&str>,
) -> Value {
    let mut request = shop
        .http
        .post(format!("http://{}/graphql", shop.shop.address(subgraph)))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_subgraph_port_serves_only_the_router_and_services() {
    let shop = TestShop::start(1).await;
    let customer = shop.customer_token().await;
    let partner = shop
        .client_token("acme", ClientKind::Partner, &["catalog:read"])
        .await;
    let service = shop
        .client_token("probe", ClientKind::Service, &["service"])
        .await;
    let sdl = "{ _service { sdl } }";

    for (name, token) in [
        ("anonymous", None),
        ("customer", Some(customer.as_str())),
        ("partner", Some(partner.as_str())),
    ] {
        for subgraph in ["catalog", "orders", "accounts"] {
            let body = at_port(&shop, subgraph, sdl, token, None).await;
            assert_eq!(
                error_code(&body),
                "FORBIDDEN",
                "{name} at {subgraph}: {body}"
            );
            assert!(body["data"].is_null(), "{name} at {subgraph}: {body}");
        }
    }
    // A partner's free-form query, refused at the port (the router allows it only its
    // published operations).
    let body = at_port(
        &shop,
        "catalog",
        "{ products(first: 1) { totalCount } }",
        Some(&partner),
        None,
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Other services are served.
    let body = at_port(&shop, "catalog", sdl, Some(&service), None).await;
    assert!(body["data"]["_service"]["sdl"].is_string(), "{body}");

    // A login posted to accounts' port with a forged address is refused before it is tried.
    let body = at_port(
        &shop,
        "accounts",
        "mutation { login(input: { email: \"customer@example.com\", password: \"wrong-password-1\" }) { accessToken } }",
        None,
        Some("203.0.113.7"),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Through the router, the same customer is served as ever.
    let body = shop
        .data("{ me { email } }", json!({}), Some(&customer))
        .await;
    assert_eq!(body["me"]["email"], "customer@example.com");
}

#[tokio::test]
async fn product_queries_are_answered_while_logins_storm() {
    let shop = TestShop::start(3).await;
    let page = shop
        .data(
            "{ products(first: 1) { edges { node { slug } } } }",
            json!({}),
            None,
        )
        .await;
    let slug = page["products"]["edges"][0]["node"]["slug"].clone();
    let login = || async {
        let body = shop.login("customer@example.com", "meadow-copper-82").await;
        assert!(body["accessToken"].is_string(), "{body}");
    };
    let query = || async {
        let body = shop
            .data(
                "query($slug: String!) { product(slug: $slug) { name availability { inStock } } }",
                json!({ "slug": slug }),
                None,
            )
            .await;
        assert!(body["product"]["name"].is_string(), "{body}");
    };
    // 60 logins, 20 at a time, and 60 product queries alongside; every one is answered (the
    // benchmark `logins` measures how fast).
    let logins = async {
        for _ in 0..3 {
            join_all((0..20).map(|_| login())).await;
        }
    };
    let queries = async {
        for _ in 0..6 {
            join_all((0..10).map(|_| query())).await;
        }
    };
    tokio::join!(logins, queries);
}
