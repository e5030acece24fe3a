use serde_json::{json, Value};

use crate::client::TestShop;
use crate::query_count;

/// `_entities` of `subgraph` for Product `representations`, selecting `fields`, sent as the
/// router would with `request_id`.
async fn entities(
    shop: &TestShop,
    subgraph: &str,
    fields: &str,
    request_id: &str,
    representations: Value,
) -> Value {
    shop.as_router(subgraph)
        .header("x-request-id", request_id)
        .json(&json!({
            "query": format!("query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Product {{ {fields} }} }} }}"),
            "variables": { "r": representations }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const PRODUCT_FIELDS: &str = "id sku name price { amount } brand { name } category { name }";

fn product_queries(statements: &[String]) -> usize {
    statements
        .iter()
        .filter(|s| s.contains("FROM products"))
        .count()
}

#[tokio::test]
async fn entity_resolution_runs_one_query_per_key_kind_not_one_per_key() {
    query_count::install();
    let shop = TestShop::start(150).await;
    let page = shop
        .data(
            "{ products(first: 100) { edges { node { id sku } } } }",
            json!({}),
            None,
        )
        .await;
    let nodes: Vec<Value> = page["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes.len(), 100);

    let by_id: Vec<Value> = nodes
        .iter()
        .map(|n| json!({ "__typename": "Product", "id": n["id"] }))
        .collect();
    let request_id = primitives::id::new_id("req");
    let response = entities(&shop, "catalog", PRODUCT_FIELDS, &request_id, json!(by_id)).await;
    let resolved = response["data"]["_entities"].as_array().unwrap();
    assert_eq!(resolved.len(), 100, "{response}");
    assert!(resolved
        .iter()
        .zip(&nodes)
        .all(|(r, n)| r["id"] == n["id"] && r["brand"]["name"].is_string()));
    // One query for the 100 products; brands and categories are batched too (the count of those
    // depends on how resolver batches meet, but never on the number of keys).
    let statements = query_count::statements_for(&request_id);
    assert_eq!(product_queries(&statements), 1, "{statements:#?}");
    assert!(statements.len() <= 7, "{statements:#?}");

    // Keys by id and by SKU in one call: one query per key kind.
    let mixed: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i % 2 == 0 {
                json!({ "__typename": "Product", "id": n["id"] })
            } else {
                json!({ "__typename": "Product", "sku": n["sku"] })
            }
        })
        .collect();
    let request_id = primitives::id::new_id("req");
    let response = entities(&shop, "catalog", PRODUCT_FIELDS, &request_id, json!(mixed)).await;
    assert_eq!(response["data"]["_entities"].as_array().unwrap().len(), 100);
    let statements = query_count::statements_for(&request_id);
    assert_eq!(product_queries(&statements), 2, "{statements:#?}");
    // Each of the two product batches brings its own brand and category batch.
    assert!(statements.len() <= 10, "{statements:#?}");

    // A product list's reviews and ratings (reviews' own fields of the 100 products): a query
    // per batch of first pages and of ratings, not one per product (how many batches depends on
    // how the resolvers meet the loader's window, as for brands above, never on the keys).
    let request_id = primitives::id::new_id("req");
    let fields = "reviews(first: 3) { edges { node { id } } } rating { count }";
    let response = entities(&shop, "reviews", fields, &request_id, json!(by_id)).await;
    assert_eq!(
        response["data"]["_entities"].as_array().unwrap().len(),
        100,
        "{response}"
    );
    let statements = query_count::statements_for(&request_id);
    let from = |table: &str| statements.iter().filter(|s| s.contains(table)).count();
    assert!((1..=3).contains(&from("FROM reviews")), "{statements:#?}");
    assert!(
        (1..=3).contains(&from("FROM rating_summaries")),
        "{statements:#?}"
    );

    // Unknown keys resolve to null without failing the batch.
    let request_id = primitives::id::new_id("req");
    let response = entities(
        &shop,
        "catalog",
        PRODUCT_FIELDS,
        &request_id,
        json!([{ "__typename": "Product", "id": "prod_missing" }, by_id[0]]),
    )
    .await;
    assert!(response["data"]["_entities"][0].is_null());
    assert_eq!(response["data"]["_entities"][1]["id"], nodes[0]["id"]);
}
