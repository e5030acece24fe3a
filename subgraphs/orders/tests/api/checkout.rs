//! Checkout on orders alone, with in-memory fakes of the services it calls, on PostgreSQL and
//! SQLite: a checkout that pays, a declined card, too little stock, twenty identical checkouts at
//! once, a payment call that fails and is resumed by the sweep without a second charge, a
//! payment service that keeps failing (the checkout gives up, stock back), and the price the
//! catalog has at checkout charged rather than the one the cart showed; the dashboard's summary
//! of a period's orders.

use std::sync::Arc;

use commerce::money::Money;
use commerce::tax::TaxClass;
use kit::testing::{spawn_app_built, TestApp};
use orders::domain::status::OrderStatus;
use orders::services::{CartLine, CatalogVariant};
use orders::Orders;
use serde_json::{json, Value};

use crate::fakes::{customer, usd, FakeServices, Hold, DECLINED};

pub(crate) const CUSTOMER: &str = "usr_ada";
pub(crate) const CART: &str = "cart_ada";
/// The lamp's variant (what carts, stock and orders hold) and its product.
pub(crate) const LAMP: &str = "var_lamp";
const LAMP_PRODUCT: &str = "prod_lamp";

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id status total { amount currencyCode } } userErrors { code message } } }";

/// Orders on PostgreSQL (or SQLite) calling fakes: a lamp at 10.00 with `stock` units, Ada's
/// cart with `quantity` lamps, her address book with `adr_home`.
async fn start(sqlite: bool, stock: i64, quantity: i64) -> (TestApp<Orders>, Arc<FakeServices>) {
    start_with(sqlite, stock, quantity, &[]).await
}

/// Like [`start`], with settings of the test's own.
pub(crate) async fn start_with(
    sqlite: bool,
    stock: i64,
    quantity: i64,
    settings: &[(&str, &str)],
) -> (TestApp<Orders>, Arc<FakeServices>) {
    start_taxed(sqlite, stock, quantity, settings, None).await
}

/// Like [`start_with`], with an external tax engine when `taxes` is given.
pub(crate) async fn start_taxed(
    sqlite: bool,
    stock: i64,
    quantity: i64,
    settings: &[(&str, &str)],
    taxes: Option<Arc<dyn orders::taxes::TaxProvider>>,
) -> (TestApp<Orders>, Arc<FakeServices>) {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let fakes = Arc::new(FakeServices::default());
    fakes.with(|w| {
        w.products.insert(
            LAMP.into(),
            CatalogVariant {
                id: LAMP.into(),
                product_id: LAMP_PRODUCT.into(),
                sku: "LAMP-1".into(),
                name: "Lamp".into(),
                title: String::new(),
                active: true,
                price: usd(1000),
                tax_class: TaxClass::Standard,
                category_path: vec!["cat_home".into(), "cat_lamps".into()],
            },
        );
        w.stock.insert(LAMP.into(), stock);
        w.collections
            .insert(LAMP_PRODUCT.into(), vec!["col_lights".into()]);
        w.carts.insert(
            (CUSTOMER.into(), CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: LAMP_PRODUCT.into(),
                quantity,
            }],
        );
        w.customers
            .insert(CUSTOMER.into(), customer("ada@example.com", "adr_home"));
    });
    let services = fakes.clone();
    let app = spawn_app_built::<Orders>(
        move |env| {
            // The sweep runs when a test says so (`saga.sweep()`), not on a timer.
            let mut env = env.set("ORDERS_SWEEP_INTERVAL_SECS", "3600");
            for (key, value) in settings {
                env = env.set(key, value);
            }
            if sqlite {
                env.set("ORDERS_DATABASE_URL", storage::db::testing::sqlite_url())
            } else {
                env
            }
        },
        Box::new(move |resources| Box::pin(Orders::build_with_taxes(resources, services, taxes))),
    )
    .await;
    (app, fakes)
}

async fn checkout(app: &TestApp<Orders>, token: &str, key: &str) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        CHECKOUT,
        json!({ "input": { "cartId": CART, "addressId": "adr_home", "paymentToken": token,
            "idempotencyKey": key } }),
        Some(&ada),
    )
    .await["checkout"]
        .clone()
}

fn total(payload: &Value) -> Money {
    Money::from_json(&payload["order"]["total"]).expect("a total")
}

#[tokio::test]
async fn a_checkout_holds_the_stock_charges_once_and_empties_the_cart() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 2).await;
        let paid = checkout(&app, "tok_visa", "k-1").await;
        assert_eq!(paid["order"]["status"], "PAID", "{paid}");
        assert_eq!(paid["userErrors"], json!([]));
        // Two lamps at 10.00 and 5.00 shipping.
        assert_eq!(total(&paid), usd(2500));
        let order_id = paid["order"]["id"].as_str().unwrap().to_string();
        fakes.with(|w| {
            assert_eq!(w.stock[LAMP], 3);
            assert_eq!(w.holds[&order_id].1, Hold::Confirmed);
            assert_eq!(w.charges.len(), 1);
            assert_eq!(w.charges[&order_id].amount_minor, 2500);
            assert!(w.carts[&(CUSTOMER.to_string(), CART.to_string())].is_empty());
        });
    }
}

#[tokio::test]
async fn a_declined_card_fails_the_order_and_gives_the_stock_back() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 2).await;
        let declined = checkout(&app, DECLINED, "k-1").await;
        assert_eq!(declined["order"]["status"], "FAILED", "{declined}");
        assert_eq!(declined["userErrors"][0]["code"], "PAYMENT_DECLINED");
        let order_id = declined["order"]["id"].as_str().unwrap().to_string();
        fakes.with(|w| {
            assert_eq!(w.stock[LAMP], 5);
            assert_eq!(w.holds[&order_id].1, Hold::Released);
            assert!(!w.charges[&order_id].captured);
            // The cart keeps its lines for another try.
            assert_eq!(w.carts[&(CUSTOMER.to_string(), CART.to_string())].len(), 1);
        });
    }
}

#[tokio::test]
async fn too_little_stock_fails_the_order_and_charges_nothing() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 1, 2).await;
        let short = checkout(&app, "tok_visa", "k-1").await;
        assert_eq!(short["order"]["status"], "FAILED", "{short}");
        assert_eq!(short["userErrors"][0]["code"], "OUT_OF_STOCK");
        fakes.with(|w| {
            assert_eq!(w.stock[LAMP], 1);
            assert!(w.charges.is_empty());
        });
    }
}

#[tokio::test]
async fn the_same_checkout_twenty_times_at_once_makes_one_order_and_one_charge() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 1).await;
        let app = Arc::new(app);
        let attempts = (0..20).map(|_| {
            let app = app.clone();
            tokio::spawn(async move { checkout(&app, "tok_visa", "same-key").await })
        });
        let answers: Vec<Value> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let mut orders: Vec<&str> = answers
            .iter()
            .filter_map(|a| a["order"]["id"].as_str())
            .collect();
        orders.dedup();
        assert_eq!(orders.len(), 1, "{answers:#?}");
        for answer in &answers {
            // Each repeat gets the one order, or is told the first is still running.
            let code = answer["userErrors"][0]["code"].as_str();
            assert!(
                answer["order"]["id"] == orders[0] || code == Some("STILL_RUNNING"),
                "{answer}"
            );
        }
        fakes.with(|w| {
            assert_eq!(w.charges.len(), 1);
            assert_eq!(w.stock[LAMP], 4);
        });
    }
}

#[tokio::test]
async fn a_payment_call_that_fails_is_resumed_and_charges_once() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 1).await;
        // Payments is down for the first call: the stock is held, the charge not made.
        fakes.with(|w| w.outages.insert("charge", 1));
        let first = checkout(&app, "tok_visa", "k-1").await;
        let order_id = first["order"]["id"].as_str().unwrap().to_string();
        assert_eq!(first["order"]["status"], "PENDING", "{first}");
        fakes.with(|w| {
            assert_eq!(w.holds[&order_id].1, Hold::Held);
            assert!(w.charges.is_empty());
        });
        // The sweep (every ORDERS_SWEEP_INTERVAL_SECS) takes the checkout up where it stopped.
        app.subgraph.service.saga.sweep().await.unwrap();
        // The client asking again with the same key gets the order, paid.
        let again = checkout(&app, "tok_visa", "k-1").await;
        assert_eq!(again["order"]["id"], order_id.as_str());
        assert_eq!(again["order"]["status"], "PAID", "{again}");
        fakes.with(|w| {
            assert_eq!(w.charges.len(), 1);
            assert_eq!(w.holds[&order_id].1, Hold::Confirmed);
            assert_eq!(w.stock[LAMP], 4);
        });
    }
}

#[tokio::test]
async fn a_payment_service_that_keeps_failing_ends_the_checkout_failed_with_the_stock_back() {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 5, 1, &[("ORDERS_CHARGE_ATTEMPTS", "2")]).await;
        fakes.with(|w| w.outages.insert("charge", u32::MAX));
        let placed = checkout(&app, "tok_visa", "broken").await;
        assert_eq!(placed["order"]["status"], "PENDING", "{placed}");
        let order_id = placed["order"]["id"].as_str().unwrap().to_string();
        fakes.with(|w| assert_eq!(w.stock[LAMP], 4, "held meanwhile"));
        // The sweep tries once more, then gives up: the stock goes back, nothing is charged.
        let saga = &app.subgraph.service.saga;
        for _ in 0..5 {
            saga.sweep().await.unwrap();
        }
        let order = app
            .subgraph
            .service
            .order(&order_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.status, OrderStatus::Failed);
        fakes.with(|w| {
            assert_eq!(w.stock[LAMP], 5);
            assert_eq!(w.holds[&order_id].1, Hold::Released);
            assert!(w.charges.is_empty());
            w.outages.clear();
        });
        // The customer can try again.
        let again = checkout(&app, "tok_visa", "second-try").await;
        assert_eq!(again["order"]["status"], "PAID", "{again}");
    }
}

#[tokio::test]
async fn the_price_is_the_catalogs_at_checkout_not_the_one_the_cart_showed() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 2).await;
        // The lamp's price changed since the cart was shown at 10.00.
        fakes.with(|w| w.products.get_mut(LAMP).unwrap().price = usd(1234));
        let ada = app.tokens.customer(CUSTOMER);
        let placed = app
            .data(
                "mutation($input: CheckoutInput!) { checkout(input: $input) { order {
                    status lines { unitPrice { amount } lineTotal { amount } }
                    subtotal { amount } total { amount } } userErrors { code } } }",
                json!({ "input": { "cartId": CART, "addressId": "adr_home",
                    "paymentToken": "tok_visa", "idempotencyKey": "price" } }),
                Some(&ada),
            )
            .await;
        let order = &placed["checkout"]["order"];
        assert_eq!(order["status"], "PAID", "{placed}");
        assert_eq!(order["lines"][0]["unitPrice"]["amount"], "12.34");
        assert_eq!(order["lines"][0]["lineTotal"]["amount"], "24.68");
        assert_eq!(order["subtotal"]["amount"], "24.68");
        assert_eq!(order["total"]["amount"], "29.68");
        fakes.with(|w| {
            let charged: Vec<i64> = w.charges.values().map(|c| c.amount_minor).collect();
            assert_eq!(charged, vec![2968]);
        });
    }
}

const CANCEL: &str = "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) {
    order { status } userErrors { code message } } }";

#[tokio::test]
async fn a_cancelled_order_puts_the_stock_back_and_is_refunded_once() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 2).await;
        let paid = checkout(&app, "tok_visa", "k-1").await;
        assert_eq!(paid["order"]["status"], "PAID", "{paid}");
        let order_id = paid["order"]["id"].as_str().unwrap().to_string();
        let ada = app.tokens.customer(CUSTOMER);
        let cancelled = app
            .data(
                CANCEL,
                json!({ "input": { "orderId": order_id, "reason": "changed my mind" } }),
                Some(&ada),
            )
            .await;
        let payload = &cancelled["cancelOrder"];
        assert_eq!(payload["userErrors"], json!([]), "{cancelled}");
        assert_eq!(payload["order"]["status"], "CANCELLED");
        fakes.with(|w| {
            assert_eq!(w.stock[LAMP], 5);
            assert_eq!(w.holds[&order_id].1, Hold::Returned);
            assert_eq!(w.charges[&order_id].refunded_minor, 2500);
        });
        // Twice: refused, nothing moves again.
        let again = app
            .data(
                CANCEL,
                json!({ "input": { "orderId": order_id } }),
                Some(&ada),
            )
            .await;
        assert_eq!(
            again["cancelOrder"]["userErrors"][0]["code"],
            "INVALID_TRANSITION"
        );
        fakes.with(|w| assert_eq!(w.stock[LAMP], 5));
        // Someone else's order is not theirs to cancel.
        let bob = app.tokens.customer("usr_bob");
        let body = app
            .graphql(
                CANCEL,
                json!({ "input": { "orderId": order_id } }),
                Some(&bob),
            )
            .await;
        let code = body["data"]["cancelOrder"]["userErrors"][0]["code"]
            .as_str()
            .or(body["errors"][0]["extensions"]["code"].as_str());
        assert!(matches!(code, Some("NOT_FOUND" | "FORBIDDEN")), "{body}");
    }
}

#[tokio::test]
async fn checkouts_that_cannot_be_placed_are_refused_with_a_reason_and_charge_nothing() {
    let (app, fakes) = start(false, 5, 1).await;
    let ada = app.tokens.customer(CUSTOMER);
    let refusal = |input: Value| {
        let app = &app;
        let ada = &ada;
        async move {
            let body = app
                .data(CHECKOUT, json!({ "input": input }), Some(ada))
                .await;
            let payload = &body["checkout"];
            assert!(payload["order"].is_null(), "{body}");
            payload["userErrors"][0]["code"]
                .as_str()
                .unwrap_or("<none>")
                .to_string()
        }
    };
    let input = |cart: &str, address: &str, key: &str| {
        json!({ "cartId": cart, "addressId": address, "paymentToken": "tok_visa",
            "idempotencyKey": key })
    };
    assert_eq!(
        refusal(input("cart_bob", "adr_home", "a")).await,
        "CART_NOT_FOUND"
    );
    assert_eq!(
        refusal(input(CART, "adr_nope", "b")).await,
        "UNKNOWN_ADDRESS"
    );
    assert_eq!(refusal(input(CART, "adr_home", " ")).await, "INVALID_INPUT");
    // The lamp archived since it went into the cart.
    fakes.with(|w| w.products.get_mut(LAMP).unwrap().active = false);
    assert_eq!(
        refusal(input(CART, "adr_home", "c")).await,
        "PRODUCT_UNAVAILABLE"
    );
    fakes.with(|w| {
        w.products.get_mut(LAMP).unwrap().active = true;
        w.carts
            .get_mut(&(CUSTOMER.to_string(), CART.to_string()))
            .unwrap()
            .clear();
    });
    assert_eq!(refusal(input(CART, "adr_home", "d")).await, "EMPTY_CART");
    // A placed checkout's key sent with another cart is refused.
    fakes.with(|w| {
        w.carts.insert(
            (CUSTOMER.into(), CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: LAMP_PRODUCT.into(),
                quantity: 1,
            }],
        )
    });
    let paid = checkout(&app, "tok_visa", "e").await;
    assert_eq!(paid["order"]["status"], "PAID", "{paid}");
    assert_eq!(
        refusal(input("cart_other", "adr_home", "e")).await,
        "IDEMPOTENCY_KEY_REUSED"
    );
    fakes.with(|w| {
        assert_eq!(w.charges.len(), 1);
        assert_eq!(w.stock[LAMP], 4);
    });
}

/// An order of one lamp from Ada's cart whose checkout was created by a process that died
/// before it read the cart again: nobody holds it, nothing was reserved or charged.
async fn orphaned_checkout(app: &TestApp<Orders>) -> String {
    let mut placed = crate::store_contract::new_order(CART);
    placed.order.customer_id = CUSTOMER.into();
    let line = &mut placed.lines[0];
    line.variant_id = LAMP.into();
    line.product_id = LAMP_PRODUCT.into();
    line.quantity = 1;
    let lease_over = primitives::time::now_millis() - 1;
    let created = app
        .subgraph
        .service
        .store
        .create(&placed, CART, None, "tok_visa", "died", lease_over)
        .await
        .unwrap();
    assert_eq!(created, orders::store::Created::Started);
    placed.order.id
}

#[tokio::test]
async fn an_unstarted_checkout_whose_cart_was_bought_meanwhile_is_withdrawn_not_charged() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 1).await;
        // Meanwhile another tab's checkout bought the cart and emptied it.
        fakes.with(|w| {
            w.carts
                .get_mut(&(CUSTOMER.to_string(), CART.to_string()))
                .unwrap()
                .clear()
        });
        let order_id = orphaned_checkout(&app).await;
        app.subgraph.service.saga.sweep().await.unwrap();
        let store = &app.subgraph.service.store;
        assert!(store
            .orders_by_ids(std::slice::from_ref(&order_id))
            .await
            .unwrap()
            .is_empty());
        fakes.with(|w| {
            assert!(w.charges.is_empty());
            assert!(w.holds.is_empty());
            assert_eq!(w.stock[LAMP], 5);
        });
    }
}

#[tokio::test]
async fn an_unstarted_checkout_whose_cart_still_holds_its_lines_is_resumed_and_paid() {
    for sqlite in [false, true] {
        let (app, fakes) = start(sqlite, 5, 1).await;
        // Carts cannot be asked at first: the checkout waits untouched for the next sweep.
        fakes.with(|w| w.outages.insert("cart", 1));
        let order_id = orphaned_checkout(&app).await;
        app.subgraph.service.saga.sweep().await.unwrap();
        fakes.with(|w| assert!(w.charges.is_empty()));
        let store = &app.subgraph.service.store;
        let checkout = store.checkout(&order_id).await.unwrap().unwrap();
        assert_eq!(checkout.attempts, 0);
        // Due again once the lease of the sweep that could not read the cart runs out (the
        // test does not wait: it ends the lease).
        sqlx::query("UPDATE checkouts SET lease_until = 0 WHERE order_id = $1")
            .bind(&order_id)
            .execute(app.database.pool())
            .await
            .unwrap();
        app.subgraph.service.saga.sweep().await.unwrap();
        let order = app
            .subgraph
            .service
            .order(&order_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.status, OrderStatus::Paid);
        fakes.with(|w| {
            assert_eq!(w.charges.len(), 1);
            assert_eq!(w.stock[LAMP], 4);
        });
    }
}

#[tokio::test]
async fn the_dashboards_summary_counts_orders_by_status_and_sums_the_paid_ones() {
    const SUMMARY: &str =
        "query($from: String, $until: String) { orderSummary(from: $from, until: $until) {
        byStatus { status count } paidOrders sales { amount currencyCode } } }";
    for sqlite in [false, true] {
        let (app, _) = start(sqlite, 5, 2).await;
        // A declined card keeps the cart's lines, so the next checkout pays for them.
        assert_eq!(
            checkout(&app, DECLINED, "k-1").await["order"]["status"],
            "FAILED"
        );
        assert_eq!(
            checkout(&app, "tok_visa", "k-2").await["order"]["status"],
            "PAID"
        );
        let admin = app.tokens.admin("usr_admin");
        let summary = app.data(SUMMARY, json!({}), Some(&admin)).await["orderSummary"].clone();
        assert_eq!(
            summary,
            json!({
                "byStatus": [
                    { "status": "PENDING", "count": 0 }, { "status": "PAID", "count": 1 },
                    { "status": "FULFILLED", "count": 0 }, { "status": "DELIVERED", "count": 0 },
                    { "status": "CANCELLED", "count": 0 }, { "status": "FAILED", "count": 1 },
                ],
                "paidOrders": 1,
                "sales": [{ "amount": "25.00", "currencyCode": "USD" }],
            })
        );
        // A period without orders counts nothing.
        let later = app
            .data(
                SUMMARY,
                json!({ "from": "2999-01-01T00:00:00Z", "until": "2999-02-01T00:00:00Z" }),
                Some(&admin),
            )
            .await["orderSummary"]
            .clone();
        assert_eq!(later["paidOrders"], 0);
        assert_eq!(later["sales"], json!([]));
        let backwards = app
            .graphql(
                SUMMARY,
                json!({ "from": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z" }),
                Some(&admin),
            )
            .await;
        assert_eq!(kit::testing::error_code(&backwards), "BAD_USER_INPUT");
        let ada = app.tokens.customer(CUSTOMER);
        let refused = app.graphql(SUMMARY, json!({}), Some(&ada)).await;
        assert_eq!(kit::testing::error_code(&refused), "FORBIDDEN");
    }
}

#[tokio::test]
async fn a_billing_address_and_a_note_stay_with_the_order_and_bad_ones_are_refused() {
    let (app, fakes) = start(false, 5, 1).await;
    let ada = app.tokens.customer(CUSTOMER);
    const PLACE: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
        order { id status note billingAddress { city postalCode } shippingAddress { city } }
        userErrors { field code message } } }";
    let place = |key: &str, extra: Value| {
        let mut input = json!({ "cartId": CART, "addressId": "adr_home",
            "paymentToken": "tok_visa", "idempotencyKey": key });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (app, ada) = (&app, &ada);
        async move { app.data(PLACE, json!({ "input": input }), Some(ada)).await["checkout"].clone() }
    };
    let billing = |postal_code: &str| {
        json!({ "fullName": "Ada Lovelace", "line1": "2 Office Rd", "city": "Chicago",
                "region": "IL", "postalCode": postal_code, "countryCode": "US" })
    };
    let bad = place(
        "bad-billing",
        json!({ "billingAddress": billing("not a zip") }),
    )
    .await;
    assert_eq!(bad["userErrors"][0]["code"], "INVALID_ADDRESS", "{bad}");
    assert_eq!(
        bad["userErrors"][0]["field"],
        json!(["input", "billingAddress", "postalCode"])
    );
    let long = place("long-note", json!({ "note": "x".repeat(501) })).await;
    assert_eq!(
        long["userErrors"][0]["field"],
        json!(["input", "note"]),
        "{long}"
    );
    fakes.with(|w| assert!(w.charges.is_empty()));

    let paid = place(
        "k",
        json!({ "billingAddress": billing("60601"), "note": "  Leave it with the neighbour " }),
    )
    .await;
    let order = &paid["order"];
    assert_eq!(order["status"], "PAID", "{paid}");
    assert_eq!(order["note"], "Leave it with the neighbour");
    assert_eq!(order["billingAddress"]["city"], "Chicago");
    assert_eq!(order["shippingAddress"]["city"], "Springfield");

    // Without a billing address, the bill goes where the parcel goes.
    fakes.with(|w| {
        w.carts.insert(
            (CUSTOMER.into(), CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: LAMP_PRODUCT.into(),
                quantity: 1,
            }],
        )
    });
    let plain = place("plain", json!({})).await;
    assert_eq!(
        plain["order"]["billingAddress"]["city"], "Springfield",
        "{plain}"
    );
    assert_eq!(plain["order"]["note"], "");
}
