//! GraphQL over HTTP: methods, media types, status codes and bad input.

use serde_json_bytes::json;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::common::{resolver, TestGateway};

/// Two subgraphs sharing one counter: `counter` adds, `calculator` multiplies.
pub async fn counter_gateway() -> TestGateway {
    let value = Arc::new(AtomicI64::new(0));
    let by = |args: &serde_json_bytes::Map<
        serde_json_bytes::ByteString,
        serde_json_bytes::Value,
    >| { args.get("by").and_then(|v| v.as_i64()).unwrap_or(0) };
    let counter = {
        let value = value.clone();
        resolver(move |call| match (call.type_name, call.field) {
            ("Query", "count") => Some(Ok(json!(value.load(Ordering::SeqCst)))),
            ("Mutation", "increment") => Some(Ok(json!(value.fetch_add(1, Ordering::SeqCst) + 1))),
            ("Mutation", "add") => {
                let by = by(call.args);
                Some(Ok(json!(value.fetch_add(by, Ordering::SeqCst) + by)))
            }
            _ => None,
        })
    };
    let calculator = {
        let value = value.clone();
        resolver(move |call| match (call.type_name, call.field) {
            ("Mutation", "multiply") => {
                let by = by(call.args);
                let updated = value.load(Ordering::SeqCst) * by;
                value.store(updated, Ordering::SeqCst);
                Some(Ok(json!(updated)))
            }
            _ => None,
        })
    };
    let resolvers = HashMap::from([
        ("counter".to_string(), counter),
        ("calculator".to_string(), calculator),
    ]);
    TestGateway::start_with("mutations", resolvers, |_| {}).await
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let gw = counter_gateway().await;
    let ok = gw.get("query=%7B%20count%20%7D", &[]).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, json!({"data": {"count": 0}}));

    let refused = gw
        .get(
            "query=mutation%20%7B%20increment%20%7D",
            &[("accept", GRAPHQL_RESPONSE)],
        )
        .await;
    assert_eq!(refused.status, 405);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        json!("METHOD_NOT_ALLOWED")
    );
    assert_eq!(
        gw.request_counts()["counter"],
        1,
        "the mutation never reached the subgraph"
    );
}

#[tokio::test]
async fn graphql_response_json_is_used_when_accepted() {
    let gw = counter_gateway().await;
    let modern = gw
        .post_raw(
            br#"{"query":"{ count }"}"#.to_vec(),
            &[
                ("content-type", "application/json"),
                ("accept", GRAPHQL_RESPONSE),
            ],
        )
        .await;
    assert!(
        modern.content_type.starts_with(GRAPHQL_RESPONSE),
        "{}",
        modern.content_type
    );
    let legacy = gw
        .post_raw(
            br#"{"query":"{ count }"}"#.to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert!(
        legacy.content_type.starts_with("application/json"),
        "{}",
        legacy.content_type
    );
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_a_graphql_error() {
    let gw = counter_gateway().await;
    let json_ct = [
        ("content-type", "application/json"),
        ("accept", GRAPHQL_RESPONSE),
    ];

    let malformed = gw.post_raw(b"{\"query\": ".to_vec(), &json_ct).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(
        malformed.body["errors"][0]["extensions"]["code"],
        json!("BAD_REQUEST")
    );

    let no_query = gw
        .post_raw(br#"{"variables": {}}"#.to_vec(), &json_ct)
        .await;
    assert_eq!(no_query.status, 400);

    let wrong_media = gw
        .post_raw(b"{ count }".to_vec(), &[("content-type", "text/plain")])
        .await;
    assert_eq!(wrong_media.status, 415);

    let huge = format!(
        r#"{{"query": "{{ count }}", "pad": "{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let too_large = gw.post_raw(huge.into_bytes(), &json_ct).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(
        too_large.body["errors"][0]["extensions"]["code"],
        json!("PAYLOAD_TOO_LARGE")
    );

    let parse_error = gw.post_json(&json!({"query": "{ count "})).await;
    assert_eq!(
        parse_error.status, 200,
        "legacy clients get 200 with errors"
    );
    assert_eq!(
        parse_error.body["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_PARSE_FAILED")
    );
    assert!(parse_error.body.get("data").is_none());

    let unknown_name = gw
        .post_raw(
            br#"{"query":"query A { count } query B { count }","operationName":"C"}"#.to_vec(),
            &json_ct,
        )
        .await;
    assert_eq!(unknown_name.status, 400);
    assert_eq!(
        unknown_name.body["errors"][0]["message"],
        json!("No operation named 'C'")
    );

    let ambiguous = gw
        .post_raw(
            br#"{"query":"query A { count } query B { count }"}"#.to_vec(),
            &json_ct,
        )
        .await;
    assert_eq!(ambiguous.status, 400);
    assert!(ambiguous.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Ambiguous"));

    let wrong_variable = gw
        .post_raw(
            br#"{"query":"mutation M($by: Int!) { add(by: $by) }","variables":{"by":"ten"}}"#
                .to_vec(),
            &json_ct,
        )
        .await;
    assert_eq!(wrong_variable.status, 400);
    assert_eq!(
        wrong_variable.body["errors"][0]["extensions"]["code"],
        json!("BAD_USER_INPUT")
    );
    assert_eq!(
        gw.request_counts()["counter"],
        0,
        "nothing invalid reached the subgraph"
    );
}

#[tokio::test]
async fn validation_errors_have_spec_messages_and_locations() {
    let gw = counter_gateway().await;
    let response = gw.query("{\n  count\n  nope\n}").await;
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_VALIDATION_FAILED")
    );
    assert_eq!(
        response["errors"][0]["locations"],
        json!([{"line": 3, "column": 3}])
    );
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("nope"));
}

#[tokio::test]
async fn health_and_graphiql() {
    let gw = counter_gateway().await;
    let base = gw.url.trim_end_matches("/graphql").to_string();
    let health = reqwest::get(format!("{base}/health"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_slice(&health).unwrap();
    assert_eq!(health, serde_json::json!({"status": "UP"}));
    let page = reqwest::Client::new()
        .get(&gw.url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("GraphiQL"));
    // Everything the page loads comes from the router: it works without internet access.
    assert!(
        !page.contains("https://") && !page.contains("http://"),
        "{page}"
    );
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(assets.len(), 4, "{assets:?}");
    for asset in assets {
        let response = reqwest::get(format!("{base}{asset}")).await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type.starts_with(expected),
            "{asset}: {content_type}"
        );
        assert!(response.bytes().await.unwrap().len() > 5_000, "{asset}");
    }
    let missing = reqwest::get(format!("{base}/graphiql/nope.js"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_site_serves_browsers_pages_and_the_api_keeps_graphql_and_graphiql() {
    let site = axum::Router::new().fallback(|uri: http::Uri| async move { format!("page {uri}") });
    let gw = TestGateway::start_with_site("mutations", site).await;
    let base = gw.url.trim_end_matches("/graphql").to_string();
    let client = reqwest::Client::new();
    let get = |path: &str, accept: &'static str| {
        client
            .get(format!("{base}{path}"))
            .header("accept", accept)
            .send()
    };
    let text = |response: reqwest::Response| async move { response.text().await.unwrap() };
    // A browser's pages, `/` included, come from the site.
    assert_eq!(text(get("/", "text/html").await.unwrap()).await, "page /");
    assert_eq!(
        text(get("/admin/orders?x=1", "text/html").await.unwrap()).await,
        "page /admin/orders?x=1"
    );
    // GraphiQL, health and GraphQL stay the router's.
    assert!(text(get("/graphql", "text/html").await.unwrap())
        .await
        .contains("GraphiQL"));
    assert!(text(get("/health", "application/json").await.unwrap())
        .await
        .contains("UP"));
    // (The fixture resolves nothing here: an answer in GraphQL's shape is the router's.)
    let by_get: serde_json::Value =
        serde_json::from_str(&text(get("/?query=%7Bcount%7D", "text/html").await.unwrap()).await)
            .unwrap();
    assert!(by_get.get("data").is_some(), "{by_get}");
    let by_post: serde_json::Value = client
        .post(format!("{base}/"))
        .json(&json!({ "query": "{ count }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(by_post.get("data").is_some(), "{by_post}");
    let without_html = text(get("/", "application/json").await.unwrap()).await;
    assert!(without_html.contains("errors"), "{without_html}");
    // Files go to the site; other paths that are not pages are not found.
    assert_eq!(
        text(get("/assets/app.js", "*/*").await.unwrap()).await,
        "page /assets/app.js"
    );
    assert_eq!(get("/metrics", "*/*").await.unwrap().status(), 404);
}

#[tokio::test]
async fn mutations_run_in_order() {
    let gw = counter_gateway().await;
    let response = gw
        .query("mutation { a: add(by: 2) b: multiply(by: 10) c: add(by: 1) d: increment }")
        .await;
    assert_eq!(
        response,
        json!({"data": {"a": 2, "b": 20, "c": 21, "d": 22}})
    );
}

#[tokio::test]
async fn operation_limits_reject_deep_wide_and_exploding_documents() {
    let gw = TestGateway::start_with("shop", crate::shop::shop_resolvers(), |config| {
        config.limits.max_depth = 4;
        config.limits.max_aliases = 3;
    })
    .await;
    let code =
        |response: &serde_json_bytes::Value| response["errors"][0]["extensions"]["code"].clone();

    let deep = gw
        .query("{ me { reviews { product { reviews { author { name } } } } } }")
        .await;
    assert_eq!(code(&deep), json!("OPERATION_LIMIT_EXCEEDED"), "{deep:?}");

    let aliased = gw
        .query("{ a: me { id } b: me { id } c: me { id } d: me { id } }")
        .await;
    assert_eq!(
        code(&aliased),
        json!("OPERATION_LIMIT_EXCEEDED"),
        "{aliased:?}"
    );

    // Each fragment spreads the previous one twice: 2^20 selections once expanded.
    let mut bomb = String::from("query { me { ...F20 } }\nfragment F0 on User { id }\n");
    for i in 1..=20 {
        bomb.push_str(&format!(
            "fragment F{i} on User {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    let exploded = gw.query(&bomb).await;
    assert_eq!(
        code(&exploded),
        json!("OPERATION_LIMIT_EXCEEDED"),
        "{exploded:?}"
    );
    assert_eq!(gw.request_counts()["accounts"], 0);

    let within = gw.query("{ me { reviews { product { name } } } }").await;
    assert!(within.get("errors").is_none(), "{within:?}");
}

#[tokio::test]
async fn subscriptions_are_refused_with_a_clear_error() {
    let gw = counter_gateway().await;
    let response = gw.query("subscription { count }").await;
    // The supergraph has no Subscription type: validation says so.
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_VALIDATION_FAILED")
    );
}

#[tokio::test]
async fn a_request_id_is_assigned_returned_and_forwarded_to_subgraphs() {
    let gw = counter_gateway().await;
    let response = reqwest::Client::new()
        .post(&gw.url)
        .header("content-type", "application/json")
        .header("authorization", "Bearer abc")
        .body(r#"{"query":"{ count }"}"#)
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let kept = reqwest::Client::new()
        .post(&gw.url)
        .header("content-type", "application/json")
        .header("x-request-id", "client-chosen-id")
        .body(r#"{"query":"{ count }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "client-chosen-id");
    let forwarded = gw.subgraph("counter").headers.lock().unwrap().clone();
    assert_eq!(forwarded[0].get("authorization").unwrap(), "Bearer abc");
    assert_eq!(
        forwarded[0].get("x-request-id").unwrap().to_str().unwrap(),
        id
    );
    assert_eq!(
        forwarded[1].get("x-request-id").unwrap(),
        "client-chosen-id"
    );

    // An oversized or odd id is neither echoed nor forwarded: the request gets a new one.
    for odd in ["x".repeat(8 * 1024), "a b".into(), "<script>".into()] {
        let replaced = reqwest::Client::new()
            .post(&gw.url)
            .header("content-type", "application/json")
            .header("x-request-id", &odd)
            .body(r#"{"query":"{ count }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(replaced.status(), 200);
        let id = replaced.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "a new UUID instead of {odd:.20}: {id}");
    }
    let forwarded = gw.subgraph("counter").headers.lock().unwrap().clone();
    assert!(forwarded[2..]
        .iter()
        .all(|headers| headers["x-request-id"].len() == 36));
}

#[tokio::test]
async fn cors_answers_preflights_for_allowed_origins_only() {
    let gw = TestGateway::start_with("mutations", HashMap::new(), |config| {
        config.cors_allow_origins = vec!["https://shop.example.com".to_string()];
    })
    .await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, &gw.url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://shop.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

/// An oversized body gets a 413 the client can read even though it sends the whole body before
/// reading (as most clients do): the router drains a bounded amount before answering and
/// closing, so the client's writes do not hit a closed connection (a broken pipe).
#[tokio::test]
async fn a_client_that_sends_its_whole_oversized_body_first_reads_its_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let gw = TestGateway::start_with("mutations", Default::default(), |config| {
        config.limits.max_body_bytes = 1024;
    })
    .await;
    let address = gw
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql");
    let body = format!(
        r#"{{"query": "{{ __typename }}", "pad": "{}"}}"#,
        "x".repeat(8 * 1024 * 1024)
    );
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    for chunked in [false, true] {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        if chunked {
            let head = head.replace(
                &format!("content-length: {}", body.len()),
                "transfer-encoding: chunked",
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            for piece in body.as_bytes().chunks(64 * 1024) {
                let frame = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
                stream.write_all(&frame).await.expect("the router reads on");
            }
            stream
                .write_all(b"0\r\n\r\n")
                .await
                .expect("the router reads on");
        } else {
            stream.write_all(head.as_bytes()).await.unwrap();
            for piece in body.as_bytes().chunks(64 * 1024) {
                stream.write_all(piece).await.expect("the router reads on");
            }
        }
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    }
}
