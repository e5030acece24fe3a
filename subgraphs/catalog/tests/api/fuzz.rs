//! Abuse and fuzz of a subgraph's request parsing (the scaffold every subgraph shares): mutated
//! bodies, almost-GraphQL documents, odd variables and entity representations, seeded
//! (`FUZZ_SEED`) and bounded (`FUZZ_CASES`, default 600). None gets a 5xx or a panic.

use catalog::Catalog;
use fuzzer::Fuzzer;
use kit::testing::spawn_app;
use serde_json::json;

const VALID: &str = r#"{"query":"query($first: Int, $r: [_Any!]!) { products(first: $first) { edges { node { id name price { amount } } } } _entities(representations: $r) { ... on Product { id name } } }","variables":{"first":3,"r":[{"__typename":"Product","id":"prod_1"}]}}"#;
const NAMES: &[&str] = &[
    "products",
    "product",
    "edges",
    "node",
    "id",
    "name",
    "price",
    "amount",
    "brand",
    "categories",
    "searchProducts",
    "_entities",
    "_service",
    "sdl",
    "createProduct",
];

#[tokio::test]
async fn malformed_and_hostile_requests_never_get_a_server_error() {
    let app = spawn_app::<Catalog>().await;
    let mut fuzz = Fuzzer::from_env(4_002);
    let cases = Fuzzer::cases(600);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..cases {
        let body = match fuzz.below(4) {
            0 => fuzz.mutate(VALID.as_bytes()),
            1 => serde_json::to_vec(&json!({ "query": fuzz.document(NAMES) })).unwrap(),
            2 => serde_json::to_vec(&json!({
                "query": "query($first: Int, $r: [_Any!]!) { products(first: $first) { totalCount } _entities(representations: $r) { __typename } }",
                "variables": { "first": fuzz.json_value(1), "r": fuzz.json_value(3) },
            }))
            .unwrap(),
            _ => serde_json::to_vec(&fuzz.json_value(4)).unwrap(),
        };
        let response = app
            .http
            .post(app.url())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "case {case} (seed {}): {status} for {}",
            fuzz.seed,
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
        *statuses.entry(status.as_u16()).or_default() += 1;
    }
    println!("{cases} cases, seed {}: {statuses:?}", fuzz.seed);
    let still = app
        .data("{ products(first: 1) { totalCount } }", json!({}), None)
        .await;
    assert!(still["products"]["totalCount"].is_number());
}
