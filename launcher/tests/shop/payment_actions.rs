//! A card whose holder must confirm with their bank (3-D Secure), through the router with the
//! built-in test provider: the order waits with its stock held and says where to confirm; the
//! holder completes on the provider's page (twice: one capture) and the order is paid; a failed
//! check fails the order with the stock back; a check never made is given up after
//! `ORDERS_PAYMENT_ACTION_SECS` and the stock goes back.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{Observer, TestShop};
use crate::purchase::{address, available, fill_cart, stocked_product};

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id status total { amount } payment { status nextActionUrl } }
    nextActionUrl userErrors { field code message } } }";

/// Checks out one unit of `product` with the 3-D Secure card: the order waits, its payment
/// requires action, and the page to confirm at is given. The order's id and that page.
async fn waiting_checkout(
    shop: &TestShop,
    token: &str,
    product: &str,
    key: &str,
) -> (String, String) {
    let cart = fill_cart(shop, token, product, 1).await;
    let placed = shop
        .data(
            CHECKOUT,
            json!({ "input": { "cartId": cart, "shippingAddress": address(),
                "paymentToken": "tok_3ds", "idempotencyKey": key } }),
            Some(token),
        )
        .await["checkout"]
        .clone();
    assert_eq!(placed["userErrors"], json!([]), "{placed:#}");
    let order = &placed["order"];
    assert_eq!(order["status"], "PENDING", "{placed:#}");
    assert_eq!(order["payment"]["status"], "REQUIRES_ACTION", "{placed:#}");
    let page = placed["nextActionUrl"]
        .as_str()
        .expect("where to confirm")
        .to_string();
    assert_eq!(order["payment"]["nextActionUrl"], json!(page));
    (order["id"].as_str().unwrap().to_string(), page)
}

/// The holder's answer on the bank's page; where it sends them back to.
async fn answer_bank(page: &str, outcome: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = client
        .post(page)
        .form(&[
            ("outcome", outcome),
            ("return_url", "http://shop.example/account/orders"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    back.headers()["location"].to_str().unwrap().to_string()
}

/// Waits for the event of `order_id` on `events` (order.paid or order.closed).
async fn ended(events: &Observer, order_id: &str) -> Value {
    let wait = async {
        loop {
            for event in events.next(Duration::from_millis(500)).await {
                if event.payload["orderId"] == order_id {
                    return event.payload;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the checkout ends within a minute")
}

async fn order(shop: &TestShop, token: &str, order_id: &str) -> Value {
    shop.data(
        "query($id: ID!) { order(id: $id) { status total { amount } payment { status capturedAmount { amount }
            failureCode nextActionUrl } } }",
        json!({ "id": order_id }),
        Some(token),
    )
    .await["order"]
        .clone()
}

#[tokio::test]
async fn a_3d_secure_payment_completed_once_or_twice_pays_failed_or_abandoned_puts_the_stock_back()
{
    let shop = TestShop::start_with(30, |options| {
        options.set("ORDERS_PAYMENT_ACTION_SECS", "30");
    })
    .await;
    let token = shop.customer_token().await;
    let (product, _, _) = stocked_product(&shop, 5).await;
    let before = available(&shop, &product).await;
    let (paid, closed) = (
        shop.observe("order.paid").await,
        shop.observe("order.closed").await,
    );

    // Completed on the bank's page, then again (a double submit): paid, captured once.
    let (order_id, page) = waiting_checkout(&shop, &token, &product, "3ds-ok").await;
    assert_eq!(
        available(&shop, &product).await,
        before - 1,
        "held while it waits"
    );
    assert_eq!(
        answer_bank(&page, "complete").await,
        "http://shop.example/account/orders"
    );
    answer_bank(&page, "complete").await;
    ended(&paid, &order_id).await;
    let done = order(&shop, &token, &order_id).await;
    assert_eq!(done["status"], "PAID", "{done:#}");
    assert_eq!(done["payment"]["status"], "CAPTURED");
    assert_eq!(
        done["payment"]["capturedAmount"], done["total"],
        "the total, once"
    );
    assert_eq!(done["payment"]["nextActionUrl"], Value::Null);
    let payments = shop.shop.subgraph::<payments::Payments>();
    let captured: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(captured_minor), 0) AS BIGINT) FROM payments WHERE order_id = $1",
    )
    .bind(&order_id)
    .fetch_one(payments.service.store.database().pool())
    .await
    .unwrap();
    assert_eq!(captured.0, 1, "one payment");

    // Failed at the bank: the order fails and its unit is back.
    let (failing, page) = waiting_checkout(&shop, &token, &product, "3ds-fail").await;
    answer_bank(&page, "fail").await;
    let event = ended(&closed, &failing).await;
    assert!(
        event["reason"]
            .as_str()
            .unwrap()
            .contains("authentication_failed"),
        "{event}"
    );
    let failed = order(&shop, &token, &failing).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["payment"]["failureCode"], "authentication_failed");

    // Never confirmed: once its time is over (the order made 31 s ago), the sweep gives the
    // payment up and the unit comes back; a confirmation after that captures nothing.
    let (abandoned, page) = waiting_checkout(&shop, &token, &product, "3ds-abandoned").await;
    let orders = shop.shop.subgraph::<orders::Orders>();
    sqlx::query("UPDATE orders SET created_at = created_at - 31000 WHERE id = $1")
        .bind(&abandoned)
        .execute(orders.service.store.database().pool())
        .await
        .unwrap();
    let event = ended(&closed, &abandoned).await;
    assert!(
        event["reason"]
            .as_str()
            .unwrap()
            .contains("not confirmed with the bank in time"),
        "{event}"
    );
    answer_bank(&page, "complete").await;
    let given_up = order(&shop, &token, &abandoned).await;
    assert_eq!(given_up["status"], "FAILED");
    assert_eq!(
        given_up["payment"]["failureCode"],
        "authentication_abandoned"
    );
    assert_eq!(given_up["payment"]["capturedAmount"]["amount"], "0.00");
    assert_eq!(
        available(&shop, &product).await,
        before - 1,
        "only the paid unit is gone"
    );
}
