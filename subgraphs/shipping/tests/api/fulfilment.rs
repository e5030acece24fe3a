//! Admins fulfilling orders by hand: several shipments, never more than was ordered, and the
//! order delivered when every shipment is.

use kit::testing::error_code;
use serde_json::json;

use crate::*;

const FULFIL: &str = "mutation($input: FulfilOrderInput!) { fulfilOrder(input: $input) {
    shipments { id carrier trackingNumber status lines { product { id } quantity } }
    userErrors { field code message } } }";

fn plan(carrier: &str, service: &str, lines: &[(&str, i64)]) -> Value {
    json!({ "carrier": carrier, "service": service, "lines": lines.iter()
        .map(|(p, q)| json!({ "productId": p, "quantity": q })).collect::<Vec<_>>() })
}

async fn fulfil(app: &TestApp<Shipping>, token: &str, order_id: &str, plans: Vec<Value>) -> Value {
    app.data(
        FULFIL,
        json!({ "input": { "orderId": order_id, "shipments": plans } }),
        Some(token),
    )
    .await["fulfilOrder"]
        .clone()
}

fn first_error(payload: &Value) -> (&str, &Value) {
    (
        payload["userErrors"][0]["code"]
            .as_str()
            .unwrap_or("<none>"),
        &payload["userErrors"][0]["field"],
    )
}

#[tokio::test]
async fn an_admin_ships_an_order_in_two_parts_and_it_is_delivered_when_both_are() {
    shipped_in_two_parts(start(false).await).await;
}

#[tokio::test]
async fn the_same_on_sqlite() {
    shipped_in_two_parts(start_on(false, true).await).await;
    fulfilled_once(start_on(false, true).await).await;
}

async fn shipped_in_two_parts(app: TestApp<Shipping>) {
    let order = paid("usr_ada", &[("prod_a", 2), ("prod_b", 1)]);
    deliver(&app, &event_of(&order)).await;
    let ada = app.tokens.customer("usr_ada");
    assert_eq!(shipments_of(&app, &order.order_id, &ada).await, json!([]));
    assert!(published(&app).await.is_empty());

    let body = app
        .graphql(
            FULFIL,
            json!({ "input": { "orderId": order.order_id, "shipments": [plan("ups", "ground", &[("prod_a", 1)])] } }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    let admin = app.tokens.admin("usr_admin");
    let shipped = fulfil(
        &app,
        &admin,
        &order.order_id,
        vec![
            plan("ups", "ground", &[("prod_a", 1)]),
            plan("usps", "ground_advantage", &[("prod_a", 1), ("prod_b", 1)]),
        ],
    )
    .await;
    assert_eq!(shipped["userErrors"], json!([]), "{shipped:#}");
    let parts = shipped["shipments"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let ups = parts[0]["trackingNumber"].as_str().unwrap();
    let usps = parts[1]["trackingNumber"].as_str().unwrap();
    assert!(ups.starts_with("1Z") && usps.starts_with("94") && usps.len() == 22);

    // Nothing is left to ship; bad plans are userErrors.
    let more = fulfil(
        &app,
        &admin,
        &order.order_id,
        vec![plan("ups", "ground", &[("prod_a", 1)])],
    )
    .await;
    assert_eq!(
        first_error(&more),
        ("MORE_THAN_ORDERED", &json!(["input", "shipments"]))
    );
    let unknown = fulfil(
        &app,
        &admin,
        &order.order_id,
        vec![plan("ups", "teleport", &[("prod_b", 1)])],
    )
    .await;
    assert_eq!(first_error(&unknown).0, "UNKNOWN_SERVICE");
    let zero = fulfil(
        &app,
        &admin,
        &order.order_id,
        vec![plan("ups", "ground", &[("prod_b", 0)])],
    )
    .await;
    assert_eq!(first_error(&zero).0, "INVALID_INPUT");
    let nobody = fulfil(
        &app,
        &admin,
        "ord_nope",
        vec![plan("ups", "ground", &[("prod_b", 1)])],
    )
    .await;
    assert_eq!(
        first_error(&nobody),
        ("NOT_FOUND", &json!(["input", "orderId"]))
    );
    assert_eq!(
        shipments_of(&app, &order.order_id, &ada)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The first part delivered by an admin's update, the second by the carrier.
    let updated = app
        .data(
            "mutation($input: UpdateShipmentTrackingInput!) { updateShipmentTracking(input: $input) {
                shipment { status events { status description } } userErrors { code } } }",
            json!({ "input": { "shipmentId": parts[0]["id"], "status": "DELIVERED",
                "description": "Left with a neighbour", "occurredAt": primitives::time::format_millis(primitives::time::now_millis() + 1000) } }),
            Some(&admin),
        )
        .await;
    let shipment = &updated["updateShipmentTracking"]["shipment"];
    assert_eq!(shipment["status"], "DELIVERED", "{updated:#}");
    assert_eq!(
        shipment["events"][1]["description"],
        "Left with a neighbour"
    );
    assert_eq!(
        published(&app).await.last().unwrap()["orderDelivered"],
        false
    );

    let soon = primitives::time::format_millis(primitives::time::now_millis() + 60_000);
    let mut event = carrier_event("d2", usps, "delivered", &soon);
    event.carrier = "usps".into();
    let (code, _) = post_signed(&app, &event, SECRET).await;
    assert_eq!(code, 200);
    let last = published(&app).await.pop().unwrap();
    assert_eq!(
        (last["trackingNumber"].as_str(), &last["orderDelivered"]),
        (Some(usps), &json!(true))
    );

    // The admin's list by status.
    let delivered = app
        .data(
            "{ shipments(status: DELIVERED, first: 10) { edges { node { trackingNumber } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(delivered["shipments"]["edges"].as_array().unwrap().len(), 2);
    let body = app
        .graphql(
            "{ shipments(first: 10) { edges { node { id } } } }",
            json!({}),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn ten_admins_fulfilling_the_same_order_at_once_ship_it_once() {
    fulfilled_once(start(false).await).await;
}

async fn fulfilled_once(app: TestApp<Shipping>) {
    let order = paid("usr_ada", &[("prod_a", 3)]);
    deliver(&app, &event_of(&order)).await;
    let admin = app.tokens.admin("usr_admin");
    let results = futures_util::future::join_all((0..10).map(|_| {
        fulfil(
            &app,
            &admin,
            &order.order_id,
            vec![plan("ups", "ground", &[("prod_a", 3)])],
        )
    }))
    .await;
    let shipped = results
        .iter()
        .filter(|r| r["userErrors"] == json!([]))
        .count();
    let refused = results
        .iter()
        .filter(|r| r["userErrors"][0]["code"] == "MORE_THAN_ORDERED")
        .count();
    assert_eq!((shipped, refused), (1, 9), "{results:#?}");
}

#[tokio::test]
async fn a_paid_order_without_a_shipping_method_goes_to_the_dead_letters() {
    let app = start(true).await;
    let mut order = paid("usr_ada", &[("prod_a", 1)]);
    // Orders placed at a flat fee, before shipping quoted rates, name no carrier service.
    order.shipping_method = None;
    let error = PaidOrders(app.subgraph.service.clone())
        .handle(&event_of(&order))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, HandlerError::Reject(reason) if reason.contains("without a shipping method")),
        "{error:?}"
    );
    let ada = app.tokens.customer("usr_ada");
    assert_eq!(shipments_of(&app, &order.order_id, &ada).await, json!([]));
}
