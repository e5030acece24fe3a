//! Completing interface and union values spread over subgraphs (`abstract-spread` fixture):
//! whether or not the subgraph data carries `__typename` (the planner only asks for it when
//! the selection must tell types apart), and with `@interfaceObject` subgraphs that answer
//! with the interface's own name.

use serde_json_bytes::json;

use crate::common::TestGateway;

async fn gateway() -> TestGateway {
    TestGateway::start("abstract-spread").await
}

#[tokio::test]
async fn interface_fields_without_typename_are_completed_for_every_item() {
    let gw = gateway().await;
    let response = gw
        .query("{ products { id sku dimensions { size } } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {"products": [
            {"id": "b1", "sku": "sku-b1", "dimensions": {"size": "small"}},
            {"id": "m1", "sku": "sku-m1", "dimensions": {"size": "large"}},
            {"id": "b2", "sku": "sku-b2", "dimensions": null}
        ]}})
    );
}

#[tokio::test]
async fn a_single_nullable_interface_value_and_a_missing_one() {
    let gw = gateway().await;
    let response = gw
        .query(r#"{ product(id: "m1") { id ... on Product { sku } } }"#)
        .await;
    assert_eq!(
        response,
        json!({"data": {"product": {"id": "m1", "sku": "sku-m1"}}})
    );
}

#[tokio::test]
async fn type_conditions_mixed_with_interface_fields_use_the_runtime_type() {
    let gw = gateway().await;
    let response = gw
        .query(
            "{ products { sku ... on Book { title } ... on Magazine { kind: __typename } \
               ... on Product { id } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"products": [
            {"sku": "sku-b1", "title": "Dune", "id": "b1"},
            {"sku": "sku-m1", "kind": "Magazine", "id": "m1"},
            {"sku": "sku-b2", "title": "Emma", "id": "b2"}
        ]}})
    );
}

#[tokio::test]
async fn nested_abstract_fields_across_subgraphs_with_and_without_conditions() {
    let gw = gateway().await;
    let response = gw
        .query(
            "{ topReviews { id product { id sku } } \
               products { id reviews { body product { sku ... on Magazine { title } } } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "topReviews": [
                {"id": 1, "product": {"id": "b1", "sku": "sku-b1"}},
                {"id": 2, "product": {"id": "m1", "sku": "sku-m1"}},
                {"id": 3, "product": null}
            ],
            "products": [
                {"id": "b1", "reviews": [{"body": "Gripping", "product": {"sku": "sku-b1"}}]},
                {"id": "m1", "reviews": [{"body": "Dated", "product": {"sku": "sku-m1", "title": "Wired"}}]},
                {"id": "b2", "reviews": []}
            ]
        }})
    );
}

#[tokio::test]
async fn union_members_and_null_items_in_a_list() {
    let gw = gateway().await;
    let response = gw
        .query(
            "{ feed { __typename ... on Announcement { text } ... on Product { id } \
               ... on Book { title } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"feed": [
            {"__typename": "Announcement", "text": "Summer sale"},
            {"__typename": "Book", "id": "b1", "title": "Dune"},
            null,
            {"__typename": "Magazine", "id": "m1"}
        ]}})
    );
    // Without any field to tell the members apart, every member completes to `{}`.
    let response = gw.query("{ feed { ... on Book { title } } }").await;
    assert_eq!(
        response,
        json!({"data": {"feed": [{}, {"title": "Dune"}, null, {}]}})
    );
}

#[tokio::test]
async fn interface_object_fields_alone_complete_from_the_interface_object_answer() {
    let gw = gateway().await;
    let response = gw.query("{ lowStock { id stock } }").await;
    assert_eq!(
        response,
        json!({"data": {"lowStock": [{"id": "m1", "stock": 2}, {"id": "b2", "stock": 0}]}})
    );
}

#[tokio::test]
async fn interface_object_values_reach_fields_of_the_owning_subgraph() {
    let gw = gateway().await;
    let response = gw
        .query("{ lowStock { stock sku dimensions { weight } } }")
        .await;
    assert_eq!(
        response,
        json!({"data": {"lowStock": [
            {"stock": 2, "sku": "sku-m1", "dimensions": {"weight": 0.2}},
            {"stock": 0, "sku": "sku-b2", "dimensions": null}
        ]}})
    );
}

#[tokio::test]
async fn interface_object_values_with_typename_and_type_conditions() {
    let gw = gateway().await;
    let response = gw
        .query(
            "{ lowStock { __typename id stock ... on Book { sku dimensions { size } } \
               ... on Magazine { sku } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {"lowStock": [
            {"__typename": "Magazine", "id": "m1", "stock": 2, "sku": "sku-m1"},
            {"__typename": "Book", "id": "b2", "stock": 0, "sku": "sku-b2", "dimensions": null}
        ]}})
    );
    // A later `_entities` answer from the `@interfaceObject` subgraph names the interface again;
    // the concrete type found before stays.
    let response = gw.query("{ lowStock { id ... on Book { sku } } }").await;
    assert_eq!(
        response,
        json!({"data": {"lowStock": [{"id": "m1"}, {"id": "b2", "sku": "sku-b2"}]}})
    );
}

#[tokio::test]
async fn an_operation_the_planner_cannot_plan_gets_a_stable_code_and_the_planners_reason() {
    let gw = gateway().await;
    // hive-router-query-planner 2.10 finds no path to a field only one implementation has in
    // a type condition under an `@interfaceObject` value; Apollo's planner can plan it.
    let response = gw
        .post_raw(
            br#"{"query": "{ lowStock { id ... on Book { title } } }"}"#.to_vec(),
            &[
                ("content-type", "application/json"),
                ("accept", "application/graphql-response+json"),
            ],
        )
        .await;
    // The client's to rewrite: a request error with the planner's reason, not a 500.
    assert_eq!(response.status, 400);
    let error = &response.body["errors"][0];
    assert_eq!(error["extensions"]["code"], json!("QUERY_PLANNING_FAILED"));
    assert_eq!(
        error["message"],
        json!("The operation cannot be planned against this supergraph")
    );
    let reason = error["extensions"]["reason"].as_str().unwrap();
    assert!(reason.contains("title"), "{reason}");
    assert!(response.body.get("data").is_none());
    // A legacy JSON client gets the same error with 200, as for any request error.
    let legacy = gw
        .post_raw(
            br#"{"query": "{ lowStock { id ... on Book { title } } }"}"#.to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(legacy.status, 200);
    assert_eq!(legacy.body, response.body);
}

#[tokio::test]
async fn interface_object_fields_on_concrete_values_and_nested_ones() {
    let gw = gateway().await;
    let response = gw
        .query(
            "{ products { id stock } \
               topReviews { product { stock ... on Book { title } } } }",
        )
        .await;
    assert_eq!(
        response,
        json!({"data": {
            "products": [
                {"id": "b1", "stock": 40},
                {"id": "m1", "stock": 2},
                {"id": "b2", "stock": 0}
            ],
            "topReviews": [
                {"product": {"stock": 40, "title": "Dune"}},
                {"product": {"stock": 2}},
                {"product": null}
            ]
        }})
    );
}

#[tokio::test]
async fn typename_of_interface_object_values_is_the_concrete_type() {
    let gw = gateway().await;
    let response = gw.query("{ lowStock { __typename } }").await;
    assert_eq!(
        response,
        json!({"data": {"lowStock": [{"__typename": "Magazine"}, {"__typename": "Book"}]}})
    );
}
