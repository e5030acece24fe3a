//! The classic shop supergraph: root fields, entity calls across four subgraphs, `@requires`,
//! `@provides`, entities nested in lists, batching and deduplication.

use std::collections::HashMap;

use serde_json_bytes::json;

use crate::common::fixture::Resolver;
use crate::common::{resolver, TestGateway};

pub fn shop_resolvers() -> HashMap<String, Resolver> {
    let products = resolver(|call| match (call.type_name, call.field) {
        ("Query", "product") => {
            let upc = call.args.get("upc")?.as_str()?.to_string();
            let data: serde_json_bytes::Value = serde_json::from_str(
                &std::fs::read_to_string(crate::common::fixtures_dir().join("shop/products.json"))
                    .unwrap(),
            )
            .unwrap();
            let found = data["entities"]["Product"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["upc"].as_str() == Some(upc.as_str()))
                .cloned()
                .unwrap_or(serde_json_bytes::Value::Null);
            Some(Ok(found))
        }
        _ => None,
    });
    let inventory = resolver(|call| match (call.type_name, call.field) {
        ("Product", "shippingEstimate") => {
            let price = call.parent.get("price")?.as_i64()?;
            let weight = call.parent.get("weight")?.as_i64()?;
            // Free for expensive items, otherwise half the weight.
            Some(Ok(json!(if price > 1000 { 0 } else { weight / 2 })))
        }
        _ => None,
    });
    HashMap::from([
        ("products".to_string(), products),
        ("inventory".to_string(), inventory),
    ])
}

async fn shop() -> TestGateway {
    TestGateway::start_with("shop", shop_resolvers(), |_| {}).await
}

#[tokio::test]
async fn root_field_from_one_subgraph() {
    let gw = shop().await;
    let response = gw.query("{ me { id name } }").await;
    assert_eq!(
        response,
        json!({"data": {"me": {"id": "u1", "name": "Ada Lovelace"}}})
    );
    assert_eq!(gw.request_counts()["accounts"], 1);
    assert_eq!(gw.request_counts()["reviews"], 0);
}

#[tokio::test]
async fn entity_call_with_requires_and_aliases() {
    let gw = shop().await;
    let response = gw
        .query(
            r#"query Top { top: topProducts(first: 2) { upc title: name inStock shippingEstimate } }"#,
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"top": [
            {"upc": "p1", "title": "Table", "inStock": true, "shippingEstimate": 50},
            {"upc": "p2", "title": "Couch", "inStock": false, "shippingEstimate": 0},
            {"upc": "p3", "title": "Chair", "inStock": true, "shippingEstimate": 25},
            {"upc": "p4", "title": "Cookbook", "inStock": true, "shippingEstimate": 1}
        ]}})
    );
}

#[tokio::test]
async fn nested_entities_in_lists_are_batched_into_one_request_per_fetch() {
    let gw = shop().await;
    let response = gw
        .query(
            r#"{ users { name reviews { body product { name reviews { author { name } } } } } }"#,
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"users": [
            {"name": "Ada Lovelace", "reviews": [
                {"body": "Love it!", "product": {"name": "Table", "reviews": [
                    {"author": {"name": "Ada Lovelace"}}, {"author": {"name": "Alan Turing"}}]}},
                {"body": "Too expensive.", "product": {"name": "Couch", "reviews": [
                    {"author": {"name": "Ada Lovelace"}}]}}
            ]},
            {"name": "Alan Turing", "reviews": [
                {"body": "Could be better.", "product": {"name": "Chair", "reviews": [
                    {"author": {"name": "Alan Turing"}}]}},
                {"body": "Prefer something else.", "product": {"name": "Table", "reviews": [
                    {"author": {"name": "Ada Lovelace"}}, {"author": {"name": "Alan Turing"}}]}}
            ]},
            {"name": "Grace Hopper", "reviews": [
                {"body": "Tasty recipes.", "product": {"name": "Cookbook", "reviews": [
                    {"author": {"name": "Grace Hopper"}}]}}
            ]}
        ]}})
    );
    let counts = gw.request_counts();
    // accounts: users, then the authors' names; reviews: the users' reviews down to the
    // products' reviews in one entity call; products: the product names.
    assert_eq!(counts["accounts"], 2, "{counts:?}");
    assert_eq!(counts["reviews"], 1, "{counts:?}");
    assert_eq!(counts["products"], 1, "{counts:?}");
    // Table is reviewed twice but sent once.
    let products_request = gw.requests_to("products")[0].clone();
    let representations = products_request["variables"]["representations"]
        .as_array()
        .unwrap();
    assert_eq!(representations.len(), 4, "{representations:?}");
}

#[tokio::test]
async fn provides_avoids_a_second_subgraph_call() {
    let gw = shop().await;
    let response = gw
        .query("{ latestReviews { id author { username } } }")
        .await;
    assert_eq!(
        response["data"]["latestReviews"][0],
        json!({"id": "r1", "author": {"username": "@ada"}})
    );
    assert_eq!(gw.request_counts()["accounts"], 0);
}

#[tokio::test]
async fn variables_arguments_and_missing_entities() {
    let gw = shop().await;
    let response = gw
        .query_with(
            r#"query P($upc: String!) { product(upc: $upc) { name reviewCount } missing: product(upc: "nope") { name } }"#,
            json!({"upc": "p1"}),
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"product": {"name": "Table", "reviewCount": 2}, "missing": null}})
    );
    // Only the variables a fetch uses are sent.
    let request = gw.requests_to("products")[0].clone();
    assert_eq!(request["variables"], json!({"upc": "p1"}));
}
