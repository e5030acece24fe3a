//! Carriers' tracking events: signed, recorded once each, in any order; forged ones refused.

use kit::testing::error_code;
use primitives::time::{format_millis, now_millis};
use serde_json::json;

use crate::*;

fn statuses(shipment: &Value) -> Vec<&str> {
    shipment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_paid_order_ships_at_once_and_carrier_events_out_of_order_end_it_delivered() {
    shipped_and_tracked(start(true).await).await;
}

#[tokio::test]
async fn the_same_on_sqlite() {
    shipped_and_tracked(start_on(true, true).await).await;
}

async fn shipped_and_tracked(app: TestApp<Shipping>) {
    let order = paid("usr_ada", &[("prod_a", 2), ("prod_b", 1)]);
    let event = event_of(&order);
    // Delivered twice (a redelivery after a lost acknowledgement): one shipment.
    deliver(&app, &event).await;
    deliver(&app, &event).await;

    let ada = app.tokens.customer("usr_ada");
    let shipments = shipments_of(&app, &order.order_id, &ada).await;
    assert_eq!(shipments.as_array().unwrap().len(), 1, "{shipments:#}");
    let shipment = &shipments[0];
    assert_eq!(shipment["status"], "LABEL_CREATED");
    assert_eq!(
        (shipment["carrier"].as_str(), shipment["service"].as_str()),
        (Some("ups"), Some("ground"))
    );
    let number = shipment["trackingNumber"].as_str().unwrap().to_string();
    assert!(number.starts_with("1Z") && number.len() == 18, "{number}");
    assert_eq!(
        shipment["trackingUrl"],
        format!("https://www.ups.com/track?tracknum={number}")
    );
    assert_eq!(
        shipment["lines"],
        json!([{ "product": { "id": "prod_a" }, "quantity": 2 },
               { "product": { "id": "prod_b" }, "quantity": 1 }])
    );
    assert_eq!(shipment["shippingAddress"]["city"], "Springfield");

    // Someone else's order's shipments are refused.
    let eve = app.tokens.customer("usr_eve");
    let body = app
        .graphql(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { shipments { id } } } }",
            json!({ "r": [{ "__typename": "Order", "id": order.order_id }] }),
            Some(&eve),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");

    // The carrier reports delivery first, then the earlier steps, then delivery again.
    let minute = 60_000;
    let at = |minutes: i64| format_millis(now_millis() + minutes * minute);
    let (t1, t2, t3) = (at(1), at(2), at(3));
    for (id, status, time) in [
        ("e3", "delivered", &t3),
        ("e1", "in_transit", &t1),
        ("e2", "out_for_delivery", &t2),
        ("e3", "delivered", &t3),
    ] {
        let (code, body) =
            post_signed(&app, &carrier_event(id, &number, status, time), SECRET).await;
        assert_eq!(code, 200, "{body}");
    }
    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(shipment["status"], "DELIVERED");
    assert_eq!(
        statuses(shipment),
        [
            "LABEL_CREATED",
            "IN_TRANSIT",
            "OUT_FOR_DELIVERY",
            "DELIVERED"
        ]
    );
    assert_eq!(shipment["events"][1]["location"], "Memphis, TN");

    // Two status changes were published: created, and delivered (the order with it); the
    // late earlier steps joined the history without moving the status back.
    let published = published(&app).await;
    let changes: Vec<(&str, &Value, &Value)> = published
        .iter()
        .map(|p| {
            (
                p["status"].as_str().unwrap(),
                &p["previousStatus"],
                &p["orderDelivered"],
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("label_created", &Value::Null, &json!(false)),
            ("delivered", &json!("label_created"), &json!(true)),
        ]
    );
    assert_eq!(published[1]["email"], "usr_ada@example.com");
    assert_eq!(published[1]["lines"][0]["productId"], "prod_a");
}

#[tokio::test]
async fn forged_stale_and_unknown_webhooks_are_refused_with_a_reason_and_change_nothing() {
    let app = start(true).await;
    let order = paid("usr_ada", &[("prod_a", 1)]);
    deliver(&app, &event_of(&order)).await;
    let ada = app.tokens.customer("usr_ada");
    let number = shipments_of(&app, &order.order_id, &ada).await[0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let soon = format_millis(now_millis() + 60_000);
    let event = carrier_event("f1", &number, "delivered", &soon);

    // Another secret.
    let (code, body) = post_signed(&app, &event, "whsec_someone_elses_secret").await;
    assert_eq!(
        (code, body["error"].as_str()),
        (401, Some("the webhook signature does not match"))
    );
    // A tampered body under a valid signature.
    let (headers, body) = shipping::webhooks::signed(&event, SECRET);
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("delivered", "returned");
    let (code, _) = post_raw(&app, headers, tampered.into_bytes()).await;
    assert_eq!(code, 401);
    // A replay from an hour ago.
    let body = serde_json::to_vec(&event).unwrap();
    let mut headers = axum::http::HeaderMap::new();
    let old = kit::webhook::sign(SECRET.as_bytes(), now_millis() / 1000 - 3600, &body);
    headers.insert(kit::webhook::SIGNATURE_HEADER, old.parse().unwrap());
    let (code, body_json) = post_raw(&app, headers, body).await;
    assert_eq!(code, 401, "{body_json}");
    // No signature at all.
    let (code, _) = post_raw(&app, axum::http::HeaderMap::new(), b"{}".to_vec()).await;
    assert_eq!(code, 401);

    // Signed, but about a parcel nobody shipped, or not a tracking event.
    let unknown = carrier_event("f2", "1Z0000000000000000", "delivered", &soon);
    let (code, body) = post_signed(&app, &unknown, SECRET).await;
    assert_eq!(code, 404);
    assert_eq!(body["error"], "no shipment has this tracking number");
    let (code, body) = post_signed(
        &app,
        &carrier_event("f3", &number, "lost_in_space", &soon),
        SECRET,
    )
    .await;
    assert_eq!(
        (code, body["error"].as_str()),
        (400, Some("unknown status \"lost_in_space\""))
    );
    let (code, _) = post_signed(
        &app,
        &carrier_event("f4", &number, "delivered", "yesterday"),
        SECRET,
    )
    .await;
    assert_eq!(code, 400);

    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(shipment["status"], "LABEL_CREATED");
    assert_eq!(statuses(shipment), ["LABEL_CREATED"]);
    assert_eq!(published(&app).await.len(), 1);

    // The genuine event still goes through.
    let (code, _) = post_signed(&app, &event, SECRET).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn one_event_delivered_twenty_times_at_once_is_recorded_once() {
    let app = start(true).await;
    let order = paid("usr_ada", &[("prod_a", 1)]);
    deliver(&app, &event_of(&order)).await;
    let ada = app.tokens.customer("usr_ada");
    let number = shipments_of(&app, &order.order_id, &ada).await[0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let event = carrier_event(
        "same",
        &number,
        "in_transit",
        &format_millis(now_millis() + 60_000),
    );
    let answers =
        futures_util::future::join_all((0..20).map(|_| post_signed(&app, &event, SECRET))).await;
    assert!(answers.iter().all(|(code, _)| *code == 200), "{answers:?}");
    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(statuses(shipment), ["LABEL_CREATED", "IN_TRANSIT"]);
    assert_eq!(published(&app).await.len(), 2);
}

#[tokio::test]
async fn the_simulated_carrier_moves_a_parcel_to_delivery_by_signed_webhooks() {
    let app = start(true).await;
    let order = paid("usr_ada", &[("prod_a", 1)]);
    deliver(&app, &event_of(&order)).await;
    let service = &app.subgraph.service;
    for _ in 0..3 {
        let moved = shipping::simulator::advance(&service.store, &app.subgraph.webhooks)
            .await
            .unwrap();
        assert_eq!(moved, 1);
    }
    // Delivered parcels are not moved again.
    let moved = shipping::simulator::advance(&service.store, &app.subgraph.webhooks)
        .await
        .unwrap();
    assert_eq!(moved, 0);
    let ada = app.tokens.customer("usr_ada");
    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(
        statuses(shipment),
        [
            "LABEL_CREATED",
            "IN_TRANSIT",
            "OUT_FOR_DELIVERY",
            "DELIVERED"
        ]
    );
    assert_eq!(
        published(&app).await.last().unwrap()["orderDelivered"],
        true
    );
}

#[tokio::test]
async fn events_from_the_future_or_naming_another_carrier_change_nothing_and_are_kept() {
    let app = start(true).await;
    let order = paid("usr_ada", &[("prod_a", 1)]);
    deliver(&app, &event_of(&order)).await;
    let ada = app.tokens.customer("usr_ada");
    let number = shipments_of(&app, &order.order_id, &ada).await[0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_string();

    // Signed, but dated 2999: it would stay the latest event for good.
    let future = carrier_event("x1", &number, "exception", "2999-01-01T00:00:00Z");
    let (code, body) = post_signed(&app, &future, SECRET).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (422, Some("`occurredAt` is in the future"))
    );
    // Signed, but by another carrier than the tracking number's (a UPS number here).
    let mut foreign = carrier_event("x2", &number, "delivered", &format_millis(now_millis()));
    foreign.carrier = "dhl".into();
    let (code, body) = post_signed(&app, &foreign, SECRET).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["error"], "the tracking number is ups's, not dhl's");

    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(statuses(shipment), ["LABEL_CREATED"]);
    assert_eq!(app.subgraph.service.store.reviews().await.unwrap(), 2);

    // The carrier's own delivery still lands, so the customer can review.
    let delivered = carrier_event("x3", &number, "delivered", &format_millis(now_millis()));
    assert_eq!(post_signed(&app, &delivered, SECRET).await.0, 200);
    let shipment = &shipments_of(&app, &order.order_id, &ada).await[0];
    assert_eq!(shipment["status"], "DELIVERED");
}
