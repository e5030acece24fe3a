//! Recommendations tests: the subgraph alone (`spawn_app`, PostgreSQL), paid orders and product
//! changes handed to its consumer as the bus would, twice where it matters.

use event_bus::consumer::Handler;
use event_bus::Event;
use events::common::{Line, PostalAddress};
use events::orders::{OrderFacts, OrderPaid};
use kit::testing::{error_code, spawn_app, spawn_app_with, TestApp};
use recommendations::consumers::order_paid::PaidOrders;
use recommendations::consumers::product_changed::ProductChanges;
use recommendations::Recommendations;
use serde_json::{json, Value};

fn event(topic: &str, payload: Value) -> Event {
    Event {
        id: primitives::id::new_id("evt"),
        topic: topic.into(),
        source: "test".into(),
        time: primitives::time::now_millis(),
        aggregate_id: "agg".into(),
        version: 1,
        payload,
        traceparent: None,
    }
}

fn paid(customer: &str, products: &[&str]) -> Event {
    let facts = OrderFacts {
        order_id: primitives::id::new_id("ord"),
        number: "SO-1".into(),
        customer_id: customer.into(),
        email: format!("{customer}@example.com"),
        total_minor: 1000,
        currency: "USD".into(),
        lines: products
            .iter()
            .map(|p| Line {
                product_id: p.to_string(),
                variant_id: None,
                quantity: 1,
            })
            .collect(),
        shipping_address: PostalAddress {
            full_name: "Ada Lovelace".into(),
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            region: Some("IL".into()),
            postal_code: "62701".into(),
            country_code: "US".into(),
            phone: None,
        },
        shipping_method: None,
        discount_minor: 0,
        tax_minor: 0,
        prices_include_tax: false,
        tax_lines: Vec::new(),
    };
    Event::new("orders", &OrderPaid(facts))
}

/// Hands `event` to the consumer of its topic, as the bus would.
async fn deliver(app: &TestApp<Recommendations>, event: &Event) {
    let store = (*app.subgraph.store).clone();
    match event.topic.as_str() {
        "order.paid" => PaidOrders(store).handle(event).await,
        "product.changed" => ProductChanges(store).handle(event).await,
        other => panic!("recommendations consumes no {other}"),
    }
    .unwrap();
}

async fn also_bought(app: &TestApp<Recommendations>, product: &str) -> Vec<String> {
    let data = app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { alsoBought(first: 5) { id } } } }",
            json!({ "r": [{ "__typename": "Product", "id": product }] }),
            None,
        )
        .await;
    data["_entities"][0]["alsoBought"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn products_bought_together_are_recommended_most_often_first_and_off_sale_ones_never() {
    bought_together(spawn_app::<Recommendations>().await).await;
}

#[tokio::test]
async fn the_same_on_sqlite() {
    let sqlite = || {
        spawn_app_with::<Recommendations>(|env| {
            env.set(
                "RECOMMENDATIONS_DATABASE_URL",
                storage::db::testing::sqlite_url(),
            )
        })
    };
    bought_together(sqlite().await).await;
    counted_at_once(sqlite().await).await;
}

async fn bought_together(app: TestApp<Recommendations>) {
    let first = paid("usr_a", &["lamp", "bulb", "shade"]);
    // A redelivered event counts once.
    deliver(&app, &first).await;
    deliver(&app, &first).await;
    deliver(&app, &paid("usr_b", &["lamp", "bulb"])).await;
    deliver(&app, &paid("usr_c", &["lamp", "desk", "lamp"])).await;
    assert_eq!(also_bought(&app, "lamp").await, ["bulb", "desk", "shade"]);
    assert_eq!(also_bought(&app, "bulb").await, ["lamp", "shade"]);
    assert!(also_bought(&app, "nothing").await.is_empty());

    // The catalog archives the bulb; older news about it does not bring it back.
    let archived = event(
        "product.changed",
        json!({ "productId": "bulb", "status": "ARCHIVED" }),
    );
    let mut stale = event(
        "product.changed",
        json!({ "productId": "bulb", "status": "ACTIVE" }),
    );
    stale.time = archived.time - 1000;
    deliver(&app, &archived).await;
    deliver(&app, &stale).await;
    assert_eq!(also_bought(&app, "lamp").await, ["desk", "shade"]);

    // For a customer: what others bought with their products, not what they have. Bob bought
    // the lamp and the bulb: the shade went with both (2), the desk with the lamp (1).
    let token = app.tokens.customer("usr_b");
    let mine = app
        .data(
            "{ recommendedForYou(first: 5) { id } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        mine["recommendedForYou"],
        json!([{ "id": "shade" }, { "id": "desk" }])
    );
    let newcomer = app.tokens.customer("usr_new");
    let none = app
        .data("{ recommendedForYou { id } }", json!({}), Some(&newcomer))
        .await;
    assert_eq!(none["recommendedForYou"], json!([]));
    let anonymous = app
        .graphql("{ recommendedForYou { id } }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let too_many = app
        .graphql(
            "{ recommendedForYou(first: 1000) { id } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
}

#[tokio::test]
async fn twenty_orders_counted_at_once_leave_exact_counts() {
    counted_at_once(spawn_app::<Recommendations>().await).await;
}

async fn counted_at_once(app: TestApp<Recommendations>) {
    let orders: Vec<Event> = (0..20)
        .map(|i| {
            paid(
                &format!("usr_{i}"),
                &["mug", if i % 4 == 0 { "tea" } else { "coffee" }],
            )
        })
        .collect();
    futures_util::future::join_all(orders.iter().map(|e| deliver(&app, e))).await;
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT other_id, orders FROM co_purchases WHERE product_id = 'mug' ORDER BY other_id",
    )
    .fetch_all(app.database.pool())
    .await
    .unwrap();
    assert_eq!(counts, [("coffee".to_string(), 15), ("tea".to_string(), 5)]);
    assert_eq!(also_bought(&app, "mug").await, ["coffee", "tea"]);
}
