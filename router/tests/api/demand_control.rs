//! Demand control with the router's defaults: every operation's cost is estimated and reported
//! on request, but nothing is refused until a maximum is configured; with one, costlier
//! operations are refused before any subgraph is called.

use serde_json_bytes::json;

use crate::common::TestGateway;

const QUERY: &str = "{ products { id sku dimensions { size } } }";

#[tokio::test]
async fn without_a_configured_maximum_a_costly_operation_is_answered_and_its_cost_reported() {
    // Lists taken at 100,000 items each: an estimate far over the old default maximum (10,000).
    let gw = TestGateway::start_with("abstract-spread", Default::default(), |config| {
        config.demand_control.default_list_size = 100_000;
    })
    .await;
    let answer = gw
        .post_json(&json!({ "query": QUERY, "extensions": { "cost": true } }))
        .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body["data"]["products"].as_array().is_some(),
        "{:?}",
        answer.body
    );
    let estimated = answer.body["extensions"]["cost"]["estimated"]
        .as_u64()
        .unwrap();
    assert!(estimated > 10_000, "{estimated}");
    assert_eq!(answer.body["extensions"]["cost"]["max"], json!(null));
}

#[tokio::test]
async fn a_configured_maximum_refuses_costlier_operations_before_any_subgraph_call() {
    let gw = TestGateway::start_with("abstract-spread", Default::default(), |config| {
        config.demand_control.default_list_size = 100_000;
        config.demand_control.max_cost = Some(10_000);
    })
    .await;
    let answer = gw.post_json(&json!({ "query": QUERY })).await;
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        json!("COST_ESTIMATED_TOO_EXPENSIVE"),
        "{:?}",
        answer.body
    );
    assert!(gw.request_counts().values().all(|n| *n == 0));
}

#[tokio::test]
async fn the_actual_cost_counts_what_the_response_holds_by_the_same_weights() {
    let gw = TestGateway::start("abstract-spread").await;
    let answer = gw
        .post_json(&json!({ "query": QUERY, "extensions": { "cost": true } }))
        .await;
    let products = answer.body["data"]["products"].as_array().unwrap();
    let with_dimensions = products
        .iter()
        .filter(|p| !p["dimensions"].is_null())
        .count();
    assert!(
        products.len() > with_dimensions,
        "the data has a null to skip"
    );
    let cost = &answer.body["extensions"]["cost"];
    // Each product (an object) costs 1, and so does each non-null `dimensions`; the estimate
    // takes the list at 10 and every `dimensions` as present.
    assert_eq!(
        cost["actual"].as_u64(),
        Some((products.len() + with_dimensions) as u64),
        "{cost:?}"
    );
    assert_eq!(cost["estimated"].as_u64(), Some(20));
}
