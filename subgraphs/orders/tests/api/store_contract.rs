//! The order store on every backend: one running checkout per cart however many start at once,
//! one lease holder per checkout, and a withdrawn order leaves nothing behind.

use std::sync::Arc;

use commerce::money::CurrencyCode;
use orders::domain::checkout::Step;
use orders::domain::status::OrderStatus;
use orders::domain::{Order, OrderLine};
use orders::store::{Created, OrderStore};
use primitives::time::now_millis;
use storage::db::testing::every_backend;

pub(crate) fn new_order(cart: &str) -> (Order, Vec<OrderLine>) {
    let id = primitives::id::new_id("ord");
    let now = now_millis();
    let order = Order {
        number: format!("SO-{}", &id[id.len() - 12..]),
        customer_id: "usr_ada".into(),
        email: "ada@example.com".into(),
        currency: CurrencyCode::Usd,
        subtotal_minor: 2000,
        shipping_minor: 500,
        total_minor: 2500,
        shipping_address: crate::fakes::address(),
        shipping_method: None,
        status: OrderStatus::Pending,
        created_at: now,
        updated_at: now,
        id: id.clone(),
    };
    let lines = vec![OrderLine {
        order_id: id,
        position: 0,
        product_id: format!("prod_for_{cart}"),
        variant_id: format!("var_for_{cart}"),
        sku: "LAMP-1".into(),
        name: "Lamp".into(),
        variant_title: String::new(),
        unit_price_minor: 1000,
        quantity: 2,
        line_total_minor: 2000,
    }];
    (order, lines)
}

#[tokio::test]
async fn of_twenty_checkouts_of_one_cart_started_at_once_exactly_one_runs() {
    for database in every_backend(&orders::MIGRATIONS).await {
        let store = Arc::new(OrderStore::new(database));
        let cart = primitives::id::new_id("cart");
        let lease = now_millis() + 30_000;
        let attempts = (0..20).map(|i| {
            let store = store.clone();
            let cart = cart.clone();
            tokio::spawn(async move {
                let (order, lines) = new_order(&cart);
                let created = store
                    .create(
                        &order,
                        &lines,
                        &cart,
                        "tok_visa",
                        &format!("owner-{i}"),
                        lease,
                    )
                    .await
                    .unwrap();
                (order.id, created)
            })
        });
        let outcomes: Vec<(String, Created)> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let started: Vec<&String> = outcomes
            .iter()
            .filter(|(_, c)| *c == Created::Started)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(started.len(), 1, "{outcomes:?}");
        // The others left no order behind: only the running one exists.
        let ids: Vec<String> = outcomes.iter().map(|(id, _)| id.clone()).collect();
        let stored = store.orders_by_ids(&ids).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(&stored[0].id, started[0]);
        let lines = store.lines_of(&ids).await.unwrap();
        assert_eq!(lines.len(), 1);
        let history = store.history_of(&ids).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].status, OrderStatus::Pending);
    }
}

#[tokio::test]
async fn a_checkout_has_one_lease_holder_until_its_lease_runs_out() {
    for database in every_backend(&orders::MIGRATIONS).await {
        let store = Arc::new(OrderStore::new(database));
        let cart = primitives::id::new_id("cart");
        let (order, lines) = new_order(&cart);
        // Created with a lease that has run out already: anyone may take it over.
        let expired = now_millis() - 1;
        let created = store
            .create(&order, &lines, &cart, "tok_visa", "crashed", expired)
            .await
            .unwrap();
        assert_eq!(created, Created::Started);
        let lease = now_millis() + 30_000;
        let claims = (0..10).map(|i| {
            let store = store.clone();
            let id = order.id.clone();
            tokio::spawn(async move { store.claim(&id, &format!("sweeper-{i}"), lease).await })
        });
        let claimed: Vec<_> = futures_util::future::join_all(claims)
            .await
            .into_iter()
            .map(|r| r.unwrap().unwrap())
            .filter(Option::is_some)
            .collect();
        assert_eq!(claimed.len(), 1, "one sweeper takes the checkout over");
        let checkout = claimed[0].clone().unwrap();
        assert_eq!(checkout.step, Step::Reserve);
        assert_eq!(checkout.cart_id, cart);
        // The crashed process cannot take it back while the new holder's lease runs.
        assert!(store
            .claim(&order.id, "crashed", lease)
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn a_withdrawn_order_leaves_nothing_and_frees_its_cart() {
    for database in every_backend(&orders::MIGRATIONS).await {
        let store = OrderStore::new(database);
        let cart = primitives::id::new_id("cart");
        let (order, lines) = new_order(&cart);
        let lease = now_millis() + 30_000;
        store
            .create(&order, &lines, &cart, "tok_visa", "owner", lease)
            .await
            .unwrap();
        // Only its creator withdraws it.
        store.withdraw(&order.id, "someone-else").await.unwrap();
        assert_eq!(
            store
                .orders_by_ids(std::slice::from_ref(&order.id))
                .await
                .unwrap()
                .len(),
            1
        );
        store.withdraw(&order.id, "owner").await.unwrap();
        let ids = [order.id.clone()];
        assert!(store.orders_by_ids(&ids).await.unwrap().is_empty());
        assert!(store.lines_of(&ids).await.unwrap().is_empty());
        assert!(store.history_of(&ids).await.unwrap().is_empty());
        assert!(store.checkout(&order.id).await.unwrap().is_none());
        // The cart can be checked out again.
        let (again, again_lines) = new_order(&cart);
        let created = store
            .create(&again, &again_lines, &cart, "tok_visa", "owner", lease)
            .await
            .unwrap();
        assert_eq!(created, Created::Started);
    }
}

/// An order placed before variants: its lines sold each product's default variant, and they
/// read as such (with no option values) after the migration, on both backends.
#[tokio::test]
async fn order_lines_from_before_variants_hold_the_default_variants() {
    static BEFORE_VARIANTS: storage::migrations::Migrations = storage::migrations!(
        "../../migrations/orders",
        [
            "0001_orders.sql",
            "0002_shipping_method.sql",
            "0003_one_checkout_per_cart.sql",
            "0004_reservation_reference.sql",
        ]
    );
    for url in storage::db::testing::every_backend_url().await {
        let old = storage::db::Database::connect(&url, 2, &BEFORE_VARIANTS)
            .await
            .unwrap();
        let (order_id, product) = (
            primitives::id::new_id("ord"),
            primitives::id::new_id("prod"),
        );
        sqlx::query(
            "INSERT INTO orders (id, number, customer_id, email, currency, subtotal_minor, \
             shipping_minor, total_minor, shipping_address, status, created_at, updated_at) \
             VALUES ($1, $2, 'usr_ada', 'ada@example.com', 'USD', 2000, 500, 2500, '{}', 'paid', 1, 1)",
        )
        .bind(&order_id)
        .bind(format!("SO-{}", &order_id[order_id.len() - 12..]))
        .execute(old.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO order_lines (order_id, position, product_id, sku, name, \
             unit_price_minor, quantity, line_total_minor) \
             VALUES ($1, 1, $2, 'LAMP-1', 'Lamp', 1000, 2, 2000)",
        )
        .bind(&order_id)
        .bind(&product)
        .execute(old.pool())
        .await
        .unwrap();
        old.close().await;

        let store = OrderStore::new(
            storage::db::Database::connect(&url, 2, &orders::MIGRATIONS)
                .await
                .unwrap(),
        );
        let lines = store.lines_of(&[order_id]).await.unwrap();
        assert_eq!(lines.len(), 1, "{url}");
        assert_eq!(
            (
                lines[0].variant_id.as_str(),
                lines[0].variant_title.as_str(),
                lines[0].product_id.as_str(),
                lines[0].sku.as_str()
            ),
            (
                commerce::variant::default_variant_id(&product).as_str(),
                "",
                product.as_str(),
                "LAMP-1"
            ),
            "{url}"
        );
    }
}
