//! The order store on every backend: one running checkout per cart however many start at once,
//! one lease holder per checkout, and a withdrawn order leaves nothing behind.

use std::sync::Arc;

use commerce::money::CurrencyCode;
use commerce::tax::{PricesInclude, TaxClass, TaxRounding, TaxRule};
use orders::domain::checkout::Step;
use orders::domain::status::OrderStatus;
use orders::domain::totals::TaxSettings;
use orders::domain::{Order, OrderLine, OrderTaxLine, PricedOrder, TaxRate};
use orders::store::{Created, OrderStore};
use primitives::time::now_millis;
use storage::db::testing::every_backend;

pub(crate) fn new_order(cart: &str) -> PricedOrder {
    let id = primitives::id::new_id("ord");
    let now = now_millis();
    let order = Order {
        number: format!("SO-{}", &id[id.len() - 12..]),
        customer_id: "usr_ada".into(),
        email: "ada@example.com".into(),
        currency: CurrencyCode::Usd,
        subtotal_minor: 2000,
        discount_minor: 0,
        shipping_minor: 500,
        shipping_discount_minor: 0,
        tax_minor: 0,
        shipping_tax_minor: 0,
        prices_include_tax: false,
        total_minor: 2500,
        shipping_address: crate::fakes::address(),
        billing_address: Some(crate::fakes::address()),
        note: "Leave it with the neighbour".into(),
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
        discount_minor: 0,
        tax_minor: 0,
        tax_rate: None,
    }];
    PricedOrder {
        order,
        lines,
        tax_lines: Vec::new(),
        discounts: Vec::new(),
    }
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
                let placed = new_order(&cart);
                let created = store
                    .create(
                        &placed,
                        &cart,
                        None,
                        "tok_visa",
                        &format!("owner-{i}"),
                        lease,
                    )
                    .await
                    .unwrap();
                (placed.order.id, created)
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
        let placed = new_order(&cart);
        let order = &placed.order;
        // Created with a lease that has run out already: anyone may take it over.
        let expired = now_millis() - 1;
        let created = store
            .create(&placed, &cart, None, "tok_visa", "crashed", expired)
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
        let placed = new_order(&cart);
        let order = &placed.order;
        let lease = now_millis() + 30_000;
        store
            .create(&placed, &cart, None, "tok_visa", "owner", lease)
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
        let again = new_order(&cart);
        let created = store
            .create(&again, &cart, None, "tok_visa", "owner", lease)
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

#[tokio::test]
async fn an_orders_taxes_and_the_shops_tax_rates_read_back_as_written() {
    for database in every_backend(&orders::MIGRATIONS).await {
        let store = OrderStore::new(database);
        let cart = primitives::id::new_id("cart");
        let mut placed = new_order(&cart);
        let rate = TaxRate {
            name: "DE VAT 19%".into(),
            rate_ppm: 190_000,
        };
        placed.order.prices_include_tax = true;
        placed.order.discount_minor = 100;
        placed.order.tax_minor = 383;
        placed.order.shipping_tax_minor = 80;
        placed.lines[0].discount_minor = 100;
        placed.lines[0].tax_minor = 303;
        placed.lines[0].tax_rate = Some(rate.clone());
        placed.tax_lines = vec![OrderTaxLine {
            order_id: placed.order.id.clone(),
            rate,
            tax_minor: 383,
            net_minor: 2_017,
        }];
        store
            .create(
                &placed,
                &cart,
                None,
                "tok_visa",
                "owner",
                now_millis() + 30_000,
            )
            .await
            .unwrap();
        let ids = [placed.order.id.clone()];
        assert_eq!(
            store.orders_by_ids(&ids).await.unwrap(),
            [placed.order.clone()]
        );
        assert_eq!(store.lines_of(&ids).await.unwrap(), placed.lines);
        assert_eq!(store.tax_lines_of(&ids).await.unwrap(), placed.tax_lines);

        let settings = TaxSettings {
            prices: PricesInclude::Tax,
            rounding: TaxRounding::PerTotal,
            shipping_class: TaxClass::Reduced,
        };
        assert_eq!(store.tax_settings().await.unwrap(), None);
        store.save_tax_settings(&settings).await.unwrap();
        store.save_tax_settings(&settings).await.unwrap();
        assert_eq!(store.tax_settings().await.unwrap(), Some(settings));
        let rule = |region: Option<&str>, rate_ppm| TaxRule {
            country_code: "US".into(),
            region: region.map(String::from),
            class: TaxClass::Standard,
            rate_ppm,
            name: "sales tax".into(),
        };
        store
            .save_tax_rate(&rule(Some("CA"), 72_500))
            .await
            .unwrap();
        store.save_tax_rate(&rule(None, 0)).await.unwrap();
        // The same place and class again replaces the rate.
        store
            .save_tax_rate(&rule(Some("CA"), 73_000))
            .await
            .unwrap();
        assert_eq!(
            store.tax_rates().await.unwrap(),
            [rule(None, 0), rule(Some("CA"), 73_000)]
        );
        let removed = store.remove_tax_rate("US", Some("CA"), TaxClass::Standard);
        assert!(removed.await.unwrap());
        let again = store.remove_tax_rate("US", Some("CA"), TaxClass::Standard);
        assert!(!again.await.unwrap());
        assert_eq!(store.tax_rates().await.unwrap(), [rule(None, 0)]);
    }
}
