//! A card whose holder must confirm the payment with their bank (3-D Secure), on orders alone:
//! the order waits with the stock held and says where to confirm; confirmed, it is paid; the
//! bank's check failed, it fails with the stock back; never confirmed, the payment is given up
//! after `ORDERS_PAYMENT_ACTION_SECS` and the stock goes back; confirmed twice, charged once.

use kit::testing::TestApp;
use orders::Orders;
use serde_json::{json, Value};

use crate::checkout::{start_with, CART, CUSTOMER, LAMP};
use crate::fakes::{FakeServices, Hold, THREE_D_SECURE};

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id status } nextActionUrl userErrors { code message } } }";

async fn checkout(app: &TestApp<Orders>, key: &str) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        CHECKOUT,
        json!({ "input": { "cartId": CART, "addressId": "adr_home",
            "paymentToken": THREE_D_SECURE, "idempotencyKey": key } }),
        Some(&ada),
    )
    .await["checkout"]
        .clone()
}

async fn order_status(app: &TestApp<Orders>, order_id: &str) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        "query($id: ID!) { order(id: $id) { status } }",
        json!({ "id": order_id }),
        Some(&ada),
    )
    .await["order"]["status"]
        .clone()
}

/// What `payment.updated` does once the provider reports the bank's answer.
async fn resume(app: &TestApp<Orders>, order_id: &str) {
    app.subgraph
        .service
        .saga
        .drive(order_id, &primitives::id::new_id("lease"))
        .await
        .unwrap();
}

/// The order as if placed an hour ago (its clock moved back, rather than waiting).
async fn an_hour_on(app: &TestApp<Orders>, order_id: &str) {
    sqlx::query("UPDATE orders SET created_at = created_at - 3600000 WHERE id = $1")
        .bind(order_id)
        .execute(app.subgraph.service.store.database().pool())
        .await
        .unwrap();
}

/// A checkout with the 3-D Secure card: pending, the stock held, nothing captured, and the
/// page to confirm at. Returns the order's id.
async fn waiting_checkout(app: &TestApp<Orders>, fakes: &FakeServices) -> String {
    let waiting = checkout(app, "k-3ds").await;
    assert_eq!(waiting["userErrors"], json!([]), "{waiting}");
    assert_eq!(waiting["order"]["status"], "PENDING", "{waiting}");
    let order_id = waiting["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        waiting["nextActionUrl"],
        json!(format!("https://bank.example/3ds/{order_id}"))
    );
    fakes.with(|w| {
        assert_eq!(w.holds[&order_id].1, Hold::Held);
        assert!(!w.charges[&order_id].captured);
    });
    // Asked again (a lost answer) or resumed before the customer acted: it still waits.
    resume(app, &order_id).await;
    let again = checkout(app, "k-3ds").await;
    assert_eq!(again["order"]["status"], "PENDING");
    assert_eq!(again["nextActionUrl"], waiting["nextActionUrl"]);
    order_id
}

#[tokio::test]
async fn a_payment_confirmed_with_the_bank_pays_the_order_and_a_second_confirmation_changes_nothing(
) {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 5, 1, &[]).await;
        let order_id = waiting_checkout(&app, &fakes).await;
        assert!(fakes.finish_action(&order_id, true));
        resume(&app, &order_id).await;
        assert_eq!(order_status(&app, &order_id).await, "PAID");
        // The same confirmation again (a double click, a replayed webhook): one capture.
        assert!(!fakes.finish_action(&order_id, true));
        resume(&app, &order_id).await;
        let again = checkout(&app, "k-3ds").await;
        assert_eq!(again["order"]["status"], "PAID");
        assert_eq!(again["nextActionUrl"], json!(null));
        fakes.with(|w| {
            assert_eq!(w.charges.len(), 1);
            assert!(w.charges[&order_id].captured);
            assert_eq!(w.holds[&order_id].1, Hold::Confirmed);
            assert_eq!(w.stock[LAMP], 4);
        });
    }
}

#[tokio::test]
async fn a_failed_bank_check_fails_the_order_and_puts_the_stock_back() {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 5, 1, &[]).await;
        let order_id = waiting_checkout(&app, &fakes).await;
        assert!(fakes.finish_action(&order_id, false));
        resume(&app, &order_id).await;
        assert_eq!(order_status(&app, &order_id).await, "FAILED");
        let again = checkout(&app, "k-3ds").await;
        assert_eq!(
            again["userErrors"][0]["code"], "PAYMENT_DECLINED",
            "{again}"
        );
        fakes.with(|w| {
            assert_eq!(w.holds[&order_id].1, Hold::Released);
            assert_eq!(w.stock[LAMP], 5);
        });
    }
}

#[tokio::test]
async fn a_payment_never_confirmed_is_given_up_after_its_time_and_the_stock_goes_back() {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 5, 1, &[("ORDERS_PAYMENT_ACTION_SECS", "60")]).await;
        let order_id = waiting_checkout(&app, &fakes).await;
        // Within its time the wait goes on.
        resume(&app, &order_id).await;
        assert_eq!(order_status(&app, &order_id).await, "PENDING");
        // An hour on: the payment is given up.
        an_hour_on(&app, &order_id).await;
        resume(&app, &order_id).await;
        assert_eq!(order_status(&app, &order_id).await, "FAILED");
        let again = checkout(&app, "k-3ds").await;
        let message = again["userErrors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("not confirmed with the bank in time"),
            "{message}"
        );
        fakes.with(|w| {
            assert!(!w.charges[&order_id].captured, "nothing charged");
            assert!(
                !w.charges[&order_id].awaiting_action,
                "the provider was told"
            );
            assert_eq!(w.holds[&order_id].1, Hold::Released);
            assert_eq!(w.stock[LAMP], 5);
        });
        // The customer confirming after that changes nothing.
        assert!(!fakes.finish_action(&order_id, true));
    }
}

#[tokio::test]
async fn a_confirmation_that_beats_the_give_up_still_pays_the_order() {
    let (app, fakes) = start_with(false, 5, 1, &[("ORDERS_PAYMENT_ACTION_SECS", "60")]).await;
    let order_id = waiting_checkout(&app, &fakes).await;
    an_hour_on(&app, &order_id).await;
    // Confirmed at the bank just as the give-up reached the provider: the provider's answer
    // to the give-up is the captured charge, and the order is paid.
    fakes.with(|w| w.confirmed_meanwhile.push(order_id.clone()));
    resume(&app, &order_id).await;
    assert_eq!(order_status(&app, &order_id).await, "PAID");
    fakes.with(|w| assert!(w.charges[&order_id].captured));
}
