//! Subgraph failures and errors: partial data, re-pathed errors, null propagation.

use std::collections::HashMap;
use std::time::Duration;

use serde_json_bytes::json;

use crate::common::fixture::Behaviour;
use crate::common::{resolver, TestGateway};
use crate::shop::shop_resolvers;

async fn shop_with_timeout(ms: u64) -> TestGateway {
    TestGateway::start_with("shop", shop_resolvers(), |config| {
        config.timeouts.subgraph_ms = ms;
    })
    .await
}

#[tokio::test]
async fn a_failing_entity_subgraph_gives_partial_data_and_an_error() {
    for (behaviour, code) in [
        (Behaviour::Status(500), "SUBREQUEST_HTTP_ERROR"),
        (Behaviour::InvalidJson, "SUBREQUEST_MALFORMED_RESPONSE"),
        (
            Behaviour::Delay(Duration::from_millis(500)),
            "SUBREQUEST_TIMEOUT",
        ),
    ] {
        let gw = shop_with_timeout(100).await;
        gw.subgraph("inventory").set_behaviour(behaviour);
        let response = gw
            .query("{ topProducts { upc name stock: inStock } }")
            .await;
        // inStock is non-null, so each product becomes null; the list items are non-null too,
        // so the whole (non-null) list and then data become null.
        assert_eq!(response["data"], json!(null), "{behaviour:?}: {response:?}");
        let errors = response["errors"].as_array().unwrap();
        assert_eq!(
            errors.len(),
            1,
            "{behaviour:?}: one error, not one per null: {errors:?}"
        );
        assert_eq!(
            errors[0]["extensions"]["code"],
            json!(code),
            "{behaviour:?}"
        );
        assert_eq!(errors[0]["extensions"]["serviceName"], json!("inventory"));
        assert_eq!(errors[0]["path"], json!(["topProducts", 0]));
    }
}

#[tokio::test]
async fn a_failing_subgraph_leaves_nullable_fields_null_and_the_rest_intact() {
    let gw = shop_with_timeout(30_000).await;
    gw.subgraph("inventory")
        .set_behaviour(Behaviour::Status(503));
    let response = gw
        .query("{ topProducts(first: 1) { name shippingEstimate } me { name } }")
        .await;
    assert_eq!(response["data"]["me"], json!({"name": "Ada Lovelace"}));
    assert_eq!(
        response["data"]["topProducts"][0],
        json!({"name": "Table", "shippingEstimate": null})
    );
    assert_eq!(response["errors"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_root_subgraph_nulls_its_fields_only() {
    let gw = shop_with_timeout(30_000).await;
    gw.subgraph("accounts")
        .set_behaviour(Behaviour::Status(500));
    let response = gw.query("{ me { name } latestReviews { id } }").await;
    assert_eq!(response["data"]["me"], json!(null));
    assert_eq!(response["data"]["latestReviews"][0], json!({"id": "r1"}));
    assert_eq!(
        response["errors"][0]["extensions"]["serviceName"],
        json!("accounts")
    );
}

#[tokio::test]
async fn subgraph_field_errors_are_repathed_to_the_client_path() {
    let mut resolvers = shop_resolvers();
    resolvers.insert(
        "accounts".to_string(),
        resolver(|call| match (call.type_name, call.field) {
            ("User", "birthYear") if call.parent.get("id")?.as_str()? == "u2" => {
                Some(Err("birth year is private".to_string()))
            }
            _ => None,
        }),
    );
    let gw = TestGateway::start_with("shop", resolvers, |_| {}).await;
    let response = gw
        .query("{ latestReviews { author { name born: birthYear } } }")
        .await;
    let reviews = response["data"]["latestReviews"].as_array().unwrap();
    assert_eq!(
        reviews[0]["author"],
        json!({"name": "Ada Lovelace", "born": 1815})
    );
    assert_eq!(
        reviews[2]["author"],
        json!({"name": "Alan Turing", "born": null})
    );
    let errors = response["errors"].as_array().unwrap();
    // Alan wrote reviews 2 and 3: one representation sent, one error for each place it fills,
    // with the client's alias in the path.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        errors[0]["path"],
        json!(["latestReviews", 2, "author", "born"])
    );
    assert_eq!(
        errors[1]["path"],
        json!(["latestReviews", 3, "author", "born"])
    );
    assert_eq!(errors[0]["extensions"]["serviceName"], json!("accounts"));
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("birth year is private"));
}

#[tokio::test]
async fn null_propagates_to_the_nearest_nullable_parent() {
    let mut resolvers = shop_resolvers();
    resolvers.insert(
        "products".to_string(),
        resolver(|call| match (call.type_name, call.field) {
            // name is String!: a null here must null the whole Product.
            ("Product", "name") if call.parent.get("upc")?.as_str()? == "p1" => {
                Some(Ok(serde_json_bytes::Value::Null))
            }
            _ => None,
        }),
    );
    let gw = TestGateway::start_with("shop", resolvers, |_| {}).await;
    let response = gw.query("{ me { reviews { product { name } } } }").await;
    // Product! inside [Review!]! inside User: the null climbs to `me`, which is nullable.
    assert_eq!(response["data"], json!({"me": null}));
    assert!(!response["errors"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_subgraph_value_outside_the_schema_has_a_code_of_its_own() {
    let gw = TestGateway::start_with("shop", shop_resolvers(), |_| {}).await;
    // Category has no GARDEN: the subgraph and the supergraph disagree.
    gw.subgraph("products")
        .set_behaviour(Behaviour::Replace("\"BOOKS\"", "\"GARDEN\""));
    let response = gw.query("{ topProducts { upc category } }").await;
    let products = response["data"]["topProducts"].as_array().unwrap();
    let garden = products
        .iter()
        .position(|p| p["category"].is_null())
        .expect("a product whose category was refused");
    assert!(products.iter().any(|p| p["category"] == json!("FURNITURE")));
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["extensions"]["code"],
        json!("INVALID_SUBGRAPH_VALUE")
    );
    assert_eq!(
        errors[0]["path"],
        json!(["topProducts", garden, "category"])
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid value \"GARDEN\" for type Category"));
}

#[tokio::test]
async fn an_unreachable_subgraph_is_an_error_not_a_dead_router() {
    let gw = TestGateway::start_with("shop", HashMap::new(), |config| {
        config.subgraphs.get_mut("accounts").unwrap().url =
            Some("http://127.0.0.1:1/graphql".to_string());
    })
    .await;
    let response = gw.query("{ me { name } }").await;
    assert_eq!(response["data"], json!({"me": null}));
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("SUBREQUEST_HTTP_ERROR")
    );
    // The router still serves.
    let again = gw.query("{ latestReviews { id } }").await;
    assert_eq!(again["data"]["latestReviews"][0]["id"], json!("r1"));
}

#[tokio::test]
async fn a_subgraph_that_keeps_failing_gets_no_calls_while_its_circuit_is_open() {
    let gw = TestGateway::start_with("shop", shop_resolvers(), |config| {
        config.circuit_breaker.failure_threshold = 3;
        config.circuit_breaker.open_ms = 60_000;
    })
    .await;
    let accounts = gw.subgraph("accounts");
    accounts.set_behaviour(Behaviour::Status(503));
    for _ in 0..3 {
        let response = gw.query("{ me { name } latestReviews { id } }").await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"],
            json!("SUBREQUEST_HTTP_ERROR")
        );
    }
    let calls = accounts.requests();
    assert!(gw.state.transport.circuit_open("accounts"));
    // Open: the fetch fails at once, the subgraph is not called, the rest of the data stays.
    let response = gw.query("{ me { name } latestReviews { id } }").await;
    assert_eq!(response["data"]["me"], json!(null));
    assert_eq!(response["data"]["latestReviews"][0], json!({"id": "r1"}));
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        json!("SUBGRAPH_CIRCUIT_OPEN")
    );
    assert_eq!(accounts.requests(), calls);
    assert!(!gw.state.transport.circuit_open("reviews"));
}
