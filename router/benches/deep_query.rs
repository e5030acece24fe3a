//! Deep cross-subgraph query benchmark, deduplication off.
//!
//! users -> reviews -> product -> reviews -> author over four in-process fixture subgraphs with
//! static data (answers replayed per request body, so the subgraphs cost little more than HTTP).
//! Prints requests per second and p50/p99 latency for:
//! - the router answering the deep query (four fetches, about 40 KB of response), and
//! - the same four subgraph requests sent directly, one after the other, as the router does:
//!   the difference is the router's own cost.
//!
//! `BENCH_SECONDS` (default 5) and `BENCH_CONCURRENCY` (default 32) tune the run.
//!
//! To compare another router on the same workload: `BENCH_SUBGRAPH_PORT_BASE=4101` puts the
//! subgraphs on fixed ports (accounts, products, reviews, inventory from that port on) and
//! writes `target/bench-supergraph.graphql` with those URLs; start the other router on that
//! supergraph and set `BENCH_COMPARE_URL` to its GraphQL endpoint.

#[path = "../tests/common/fixture.rs"]
mod fixture;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::response::JsonValue;
use bytes::Bytes;
use fixture::FixtureSubgraph;
use router::config::{DedupeConfig, RouterConfig, SubgraphConfig};
use router::App;
use serde_json_bytes::json;
use support::{env_number, load, post};

// The same allocator as the router binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USERS: usize = 20;
const PRODUCTS: usize = 40;
const REVIEWS_PER_USER: usize = 5;

const DEEP_QUERY: &str = r#"query Deep {
  users {
    id
    name
    reviews {
      id
      body
      rating
      product {
        upc
        name
        price
        reviews {
          id
          body
          author { id name username }
        }
      }
    }
  }
}"#;

fn shop_data() -> Vec<(&'static str, JsonValue)> {
    let user = |i: usize| {
        json!({"__typename": "User", "id": format!("u{i}"), "name": format!("User Number {i}"),
               "username": format!("@user{i}"), "birthYear": 1950 + i})
    };
    let product = |i: usize| {
        json!({"__typename": "Product", "upc": format!("p{i}"), "name": format!("Product {i}"),
               "price": 100 + i, "weight": 10 + i})
    };
    let reviews: Vec<(usize, usize, usize)> = (0..USERS * REVIEWS_PER_USER)
        .map(|r| (r, r / REVIEWS_PER_USER, (r * 7) % PRODUCTS))
        .collect();
    let review = |(r, u, p): (usize, usize, usize)| {
        json!({"__typename": "Review", "id": format!("r{r}"),
               "body": format!("Review {r}: solid product, would recommend to a friend."),
               "rating": 1 + r % 5,
               "author": {"__typename": "User", "id": format!("u{u}"), "username": format!("@user{u}")},
               "product": {"__typename": "Product", "upc": format!("p{p}")}})
    };
    let users: Vec<JsonValue> = (0..USERS).map(user).collect();
    let products: Vec<JsonValue> = (0..PRODUCTS).map(product).collect();
    let accounts = json!({"Query": {"users": users.clone(), "me": users[0].clone()},
                          "entities": {"User": users}});
    let products_data = json!({"Query": {"topProducts": products.clone()},
                               "entities": {"Product": products}});
    let reviews_data = json!({
        "Query": {"latestReviews": reviews.iter().copied().map(review).collect::<Vec<_>>()},
        "entities": {
            "User": (0..USERS).map(|u| json!({"id": format!("u{u}"),
                "reviews": reviews.iter().copied().filter(|x| x.1 == u).map(review).collect::<Vec<_>>()}))
                .collect::<Vec<_>>(),
            "Product": (0..PRODUCTS).map(|p| json!({"upc": format!("p{p}"),
                "reviews": reviews.iter().copied().filter(|x| x.2 == p).map(review).collect::<Vec<_>>(),
                "reviewCount": reviews.iter().filter(|x| x.2 == p).count()}))
                .collect::<Vec<_>>(),
            "Review": reviews.iter().copied().map(review).collect::<Vec<_>>()
        }
    });
    vec![
        ("accounts", accounts),
        ("products", products_data),
        ("reviews", reviews_data),
        ("inventory", json!({})),
    ]
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 32) as usize;
    let duration = Duration::from_secs(seconds);
    let fixtures_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop");

    let mut config = RouterConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        // The router's own cost: every request executed (the gateway bench covers sharing).
        dedupe: DedupeConfig {
            subgraph_requests: false,
            client_requests: false,
        },
        ..RouterConfig::default()
    };
    let port_base = env_number("BENCH_SUBGRAPH_PORT_BASE", 0) as u16;
    let mut subgraphs = Vec::new();
    for (i, (name, data)) in shop_data().into_iter().enumerate() {
        let sdl = std::fs::read_to_string(fixtures_dir.join(format!("{name}.graphql"))).unwrap();
        let subgraph = Arc::new(FixtureSubgraph::new(name, &sdl, data, None).memoized());
        let port = if port_base == 0 {
            0
        } else {
            port_base + i as u16
        };
        let url = fixture::serve_on(subgraph.clone(), port).await;
        config.subgraphs.insert(
            name.to_string(),
            SubgraphConfig {
                url: Some(url.clone()),
                timeout_ms: None,
                dedupe: None,
            },
        );
        subgraphs.push((name, url, subgraph));
    }
    let mut supergraph = std::fs::read_to_string(fixtures_dir.join("supergraph.graphql")).unwrap();
    for (name, url, _) in &subgraphs {
        supergraph = supergraph.replace(&format!("http://127.0.0.1:4000/{name}"), url);
    }
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-supergraph.graphql");
    std::fs::write(&out, &supergraph).unwrap();
    let app = App::build(config, &supergraph).await.unwrap();
    let router_url = format!("http://{}/graphql", app.local_addr());
    tokio::spawn(app.run());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()
        .unwrap();
    let body = Bytes::from(serde_json::to_vec(&json!({"query": DEEP_QUERY})).unwrap());

    // One warm-up request: plans the query, fills the fixtures' answer cache, checks the answer.
    let answer = post(&client, &router_url, body.clone()).await;
    let parsed: JsonValue = serde_json::from_slice(&answer).unwrap();
    assert!(parsed.get("errors").is_none(), "{parsed:?}");
    assert_eq!(parsed["data"]["users"].as_array().unwrap().len(), USERS);

    // The subgraph requests one router request makes, in the order it made them.
    let mut chain: Vec<(String, Bytes)> = Vec::new();
    for (name, url, subgraph) in &subgraphs {
        for request in subgraph.requests.lock().unwrap().iter() {
            chain.push((
                format!("{name} {url}"),
                Bytes::from(serde_json::to_vec(request).unwrap()),
            ));
        }
    }
    let order = ["accounts", "reviews", "products"];
    chain.sort_by_key(|(label, body)| {
        let stage = order.iter().position(|n| label.starts_with(n)).unwrap_or(9);
        // accounts is called twice: the root fetch (no representations) first.
        let entity_call = body.windows(15).any(|w| w == b"representations");
        (
            stage + if entity_call && stage == 0 { 3 } else { 0 },
            label.clone(),
        )
    });
    let chain: Vec<(String, Bytes)> = chain
        .into_iter()
        .map(|(label, body)| (label.split(' ').nth(1).unwrap().to_string(), body))
        .collect();

    println!(
        "deep query: {} bytes of response, {} subgraph requests per router request",
        answer.len(),
        chain.len()
    );
    println!(
        "{seconds} s per run, {concurrency} concurrent clients, 2 cores shared by everything\n"
    );

    let mut router_stats = {
        let client = client.clone();
        let url = router_url.clone();
        let body = body.clone();
        load(concurrency, duration, move || {
            let client = client.clone();
            let url = url.clone();
            let body = body.clone();
            async move {
                post(&client, &url, body).await;
            }
        })
        .await
    };
    router_stats.print("router: deep query");

    let mut direct_stats = {
        let client = client.clone();
        let chain = Arc::new(chain);
        load(concurrency, duration, move || {
            let client = client.clone();
            let chain = chain.clone();
            async move {
                for (url, body) in chain.iter() {
                    post(&client, url, body.clone()).await;
                }
            }
        })
        .await
    };
    direct_stats.print("subgraphs direct: same requests in sequence");
    if let Ok(other) = std::env::var("BENCH_COMPARE_URL") {
        // Same answer first: a faster wrong router is no comparison.
        let their_answer = post(&client, &other, body.clone()).await;
        let theirs: JsonValue = serde_json::from_slice(&their_answer).unwrap();
        assert_eq!(
            theirs["data"], parsed["data"],
            "the comparison router answers differently"
        );
        let client = client.clone();
        let body = body.clone();
        let mut other_stats = load(concurrency, duration, move || {
            let client = client.clone();
            let url = other.clone();
            let body = body.clone();
            async move {
                post(&client, &url, body).await;
            }
        })
        .await;
        other_stats.print("comparison router (BENCH_COMPARE_URL)");
    }
    let router_p50 = router_stats.latencies[router_stats.latencies.len() / 2];
    let direct_p50 = direct_stats.latencies[direct_stats.latencies.len() / 2];
    println!(
        "\nrouter's own cost at p50: {:.2} ms per request",
        (router_p50.as_secs_f64() - direct_p50.as_secs_f64()) * 1000.0
    );
}
