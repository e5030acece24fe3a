//! Shipping tests: the subgraph alone through its API (`spawn_app`, PostgreSQL); paid orders
//! arriving as events, carriers' signed webhooks over real HTTP, quotes with the catalog's
//! weights from a real catalog.

mod fulfilment;
mod rates;
mod tracking;

use std::sync::Arc;

use event_bus::consumer::{Handler, HandlerError};
use event_bus::Event;
use events::common::{Line, PostalAddress};
use events::orders::{OrderFacts, OrderPaid, ShippingMethod};
use kit::testing::{spawn_app_with, TestApp};
use serde_json::{json, Value};
use shipping::consumers::order_paid::PaidOrders;
use shipping::webhooks::CarrierEvent;
use shipping::Shipping;

pub const SECRET: &str = "whsec_carrier_test_secret";

pub async fn start(auto_fulfil: bool) -> TestApp<Shipping> {
    start_on(auto_fulfil, false).await
}

/// The subgraph on PostgreSQL, or on SQLite (the embedded shop's database) when `sqlite`.
pub async fn start_on(auto_fulfil: bool, sqlite: bool) -> TestApp<Shipping> {
    spawn_app_with::<Shipping>(move |env| {
        let env = env
            .set("SHIPPING_CARRIER_WEBHOOK_SECRETS", SECRET)
            .set("SHIPPING_AUTO_FULFIL", auto_fulfil.to_string());
        if sqlite {
            env.set("SHIPPING_DATABASE_URL", storage::db::testing::sqlite_url())
        } else {
            env
        }
    })
    .await
}

pub fn address() -> PostalAddress {
    PostalAddress {
        full_name: "Ada Lovelace".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        region: Some("IL".into()),
        postal_code: "62701".into(),
        country_code: "US".into(),
        phone: None,
    }
}

/// `order.paid` for a new order of `customer` with `lines` (product, quantity).
pub fn paid(customer: &str, lines: &[(&str, i64)]) -> OrderFacts {
    let order_id = primitives::id::new_id("ord");
    OrderFacts {
        number: format!("SO-{}", &order_id[4..12]),
        order_id,
        customer_id: customer.into(),
        email: format!("{customer}@example.com"),
        lines: lines
            .iter()
            .map(|(p, q)| Line {
                product_id: p.to_string(),
                variant_id: None,
                quantity: *q,
            })
            .collect(),
        total_minor: 4200,
        currency: "USD".into(),
        shipping_address: address(),
        shipping_method: Some(ShippingMethod {
            carrier: "ups".into(),
            service: "ground".into(),
        }),
        discount_minor: 0,
        tax_minor: 0,
        prices_include_tax: false,
        tax_lines: Vec::new(),
    }
}

/// Delivers `event` to shipping's `order.paid` consumer, as the bus would.
pub async fn deliver(app: &TestApp<Shipping>, event: &Event) {
    PaidOrders(app.subgraph.service.clone())
        .handle(event)
        .await
        .expect("the paid order is handled");
}

pub fn event_of(paid: &OrderFacts) -> Event {
    Event::new("orders", &OrderPaid(paid.clone()))
}

/// The `shipment.updated` payloads in the outbox, oldest first.
pub async fn published(app: &TestApp<Shipping>) -> Vec<Value> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM outbox_events WHERE topic = 'shipment.updated' ORDER BY created_at, id",
    )
    .fetch_all(app.database.pool())
    .await
    .unwrap();
    bodies
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap()["payload"].clone())
        .collect()
}

/// The order's shipments as its customer sees them.
pub async fn shipments_of(app: &TestApp<Shipping>, order_id: &str, token: &str) -> Value {
    let data = app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order {
                shipments { id carrier service trackingNumber trackingUrl status
                    lines { product { id } quantity } shippingAddress { city }
                    events { status description location occurredAt } } } } }",
            json!({ "r": [{ "__typename": "Order", "id": order_id }] }),
            Some(token),
        )
        .await;
    data["_entities"][0]["shipments"].clone()
}

/// A carrier's event for `tracking_number`.
pub fn carrier_event(id: &str, tracking_number: &str, status: &str, at: &str) -> CarrierEvent {
    CarrierEvent {
        id: id.into(),
        carrier: "ups".into(),
        tracking_number: tracking_number.into(),
        status: status.into(),
        occurred_at: at.into(),
        location: Some("Memphis, TN".into()),
        description: None,
    }
}

/// Posts a webhook signed with `secret` at `/webhooks/carrier`; the status and the body.
pub async fn post_signed(
    app: &TestApp<Shipping>,
    event: &CarrierEvent,
    secret: &str,
) -> (u16, Value) {
    let (headers, body) = shipping::webhooks::signed(event, secret);
    post_raw(app, headers, body).await
}

pub async fn post_raw(
    app: &TestApp<Shipping>,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("http://{}/webhooks/carrier", app.address))
        .body(body);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.to_str().unwrap());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub type Service = Arc<shipping::service::ShippingService>;
