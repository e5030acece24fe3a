//! Abuse and fuzz of the router's own parsing: request bodies, GET query strings, GraphQL
//! documents, variables and extensions, seeded (`FUZZ_SEED`) and bounded (`FUZZ_CASES`, default
//! 1,500). Every answer is a client error or a GraphQL answer, never a 5xx or a panic, and the
//! router keeps answering.

use std::collections::BTreeMap;

use fuzzer::Fuzzer;
use serde_json::json;

use crate::common::{RawResponse, TestGateway};
use crate::shop::shop_resolvers;

const VALID: &str = r#"{"query":"query($upc: String!) { product(upc: $upc) { upc name price } topProducts(first: 2) { upc } }","variables":{"upc":"p1"},"operationName":null}"#;
const NAMES: &[&str] = &[
    "topProducts",
    "product",
    "upc",
    "name",
    "price",
    "weight",
    "reviews",
    "author",
    "me",
    "latestReviews",
    "category",
    "body",
    "shippingEstimate",
    "inStock",
    "_entities",
    "_service",
];

async fn post(gw: &TestGateway, body: &serde_json::Value) -> RawResponse {
    gw.post_raw(
        serde_json::to_vec(body).unwrap(),
        &[("content-type", "application/json")],
    )
    .await
}

#[tokio::test]
async fn malformed_and_hostile_requests_get_client_errors_and_the_router_keeps_answering() {
    let gw = TestGateway::start_with("shop", shop_resolvers(), |_| {}).await;
    let mut fuzz = Fuzzer::from_env(20_261_203);
    let cases = Fuzzer::cases(1_500);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let json_body = [("content-type", "application/json")];
    for case in 0..cases {
        let (what, response) = match fuzz.below(7) {
            0 => {
                let body = fuzz.mutate(VALID.as_bytes());
                ("mutated body", gw.post_raw(body, &json_body).await)
            }
            1 => {
                let document = fuzz.document(NAMES);
                ("document", post(&gw, &json!({ "query": document })).await)
            }
            2 => {
                let variables = fuzz.json_value(3);
                let body = json!({ "query": "query($upc: String!, $first: Int) { product(upc: $upc) { name } topProducts(first: $first) { upc } }", "variables": variables });
                ("variables", post(&gw, &body).await)
            }
            3 => {
                let body = fuzz.json_value(4);
                ("any JSON", post(&gw, &body).await)
            }
            4 => {
                let query = fuzz
                    .mutate(b"query=%7B%20topProducts%20%7B%20upc%20%7D%20%7D&variables=%7B%7D");
                // Whatever the bytes, a URL the client can send: anything but unreserved
                // characters, `=`, `&` and `%` is percent-encoded (stray `%`s stay).
                let query: String = query
                    .iter()
                    .take(16 * 1024)
                    .map(|b| match b {
                        b'A'..=b'Z'
                        | b'a'..=b'z'
                        | b'0'..=b'9'
                        | b'-'
                        | b'_'
                        | b'.'
                        | b'~'
                        | b'='
                        | b'&'
                        | b'%' => (*b as char).to_string(),
                        other => format!("%{other:02X}"),
                    })
                    .collect();
                (
                    "GET",
                    gw.get(&query, &[("accept", "application/json")]).await,
                )
            }
            5 => {
                let content_type = fuzz.hostile();
                let body = fuzz.mutate(VALID.as_bytes());
                let content_type =
                    if content_type.len() > 200 || content_type.chars().any(char::is_control) {
                        "text/plain".to_string()
                    } else {
                        content_type
                    };
                (
                    "content type",
                    gw.post_raw(body, &[("content-type", &content_type)]).await,
                )
            }
            _ => {
                let extensions = fuzz.json_value(3);
                let body = json!({ "query": "{ topProducts { upc } }", "extensions": extensions,
                    "documentId": fuzz.json_value(1) });
                ("extensions", post(&gw, &body).await)
            }
        };
        assert!(
            response.status < 500,
            "case {case} ({what}, seed {}): {} {:?}",
            fuzz.seed,
            response.status,
            response.body
        );
        if response.status != 413 && response.content_type.contains("json") {
            assert!(
                response.body.get("errors").is_some() || response.body.get("data").is_some(),
                "case {case} ({what}): {:?}",
                response.body
            );
        }
        *statuses.entry(response.status).or_default() += 1;
    }
    println!("{cases} cases, seed {}: statuses {statuses:?}", fuzz.seed);
    // Still serving, correctly.
    let answer = gw.query("{ topProducts(first: 1) { upc } }").await;
    assert_eq!(answer["data"]["topProducts"][0]["upc"], "p1");
}
