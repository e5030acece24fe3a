//! Real concurrency against the real databases: many reservations racing for the last units.

use std::sync::Arc;

use inventory::domain::AdjustmentKind;
use inventory::store::{
    AdjustOutcome, AdjustmentRequest, InventoryStore, ReserveOutcome, Warehouse,
};
use storage::db::testing::every_backend;

/// A new active warehouse with this code; its id.
async fn warehouse(store: &InventoryStore, code: &str) -> String {
    let warehouse = Warehouse {
        id: primitives::id::new_id("wh"),
        code: code.into(),
        name: code.into(),
        active: true,
        created_at: 0,
    };
    store.create_warehouse(&warehouse).await.unwrap();
    warehouse.id
}

/// `units` of `variant` (of `product`) arrive in `warehouse`.
async fn restock(
    store: &InventoryStore,
    variant: &str,
    product: &str,
    warehouse: &str,
    units: i64,
) {
    let outcome = store
        .adjust(&AdjustmentRequest {
            variant_id: variant.into(),
            product_id: product.into(),
            warehouse_id: warehouse.into(),
            kind: AdjustmentKind::Restock,
            delta: units,
            reason: "setup".into(),
            staff: kit::audit::Auditor::staff("test"),
            idempotency_key: primitives::id::new_id("key"),
        })
        .await
        .unwrap();
    assert!(matches!(outcome, AdjustOutcome::Applied(_)));
}

#[tokio::test]
async fn two_hundred_concurrent_reservations_for_the_last_ten_units_reserve_exactly_ten() {
    for db in every_backend(&inventory::MIGRATIONS).await {
        let backend = db.backend();
        let store = Arc::new(InventoryStore::new(db, 5));
        let product = primitives::id::new_id("prod");
        let variant = commerce::variant::default_variant_id(&product);
        for (code, units) in [("A", 6), ("B", 4)] {
            let warehouse = warehouse(&store, code).await;
            restock(&store, &variant, &product, &warehouse, units).await;
        }
        let expires = primitives::time::now_millis() + 60_000;
        let attempts: Vec<_> = (0..200)
            .map(|i| {
                let (store, product) = (store.clone(), product.clone());
                tokio::spawn(async move {
                    store
                        .reserve(
                            &format!("ord_{i}"),
                            &[(commerce::variant::default_variant_id(&product), 1)],
                            expires,
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut reserved = 0;
        let mut short = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                ReserveOutcome::Reserved(_) => reserved += 1,
                ReserveOutcome::Short(lines) => {
                    assert_eq!(lines.len(), 1, "{backend:?}");
                    assert_eq!(lines[0].available, 0, "{backend:?}");
                    short += 1
                }
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!((reserved, short), (10, 190), "{backend:?}");
        let levels = store
            .levels_of_products(std::slice::from_ref(&product))
            .await
            .unwrap();
        assert_eq!(
            levels.iter().map(|l| l.reserved).sum::<i64>(),
            10,
            "{backend:?}"
        );
        assert!(
            levels.iter().all(|l| l.reserved == l.on_hand),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn concurrent_repeats_of_one_order_reference_reserve_once() {
    for db in every_backend(&inventory::MIGRATIONS).await {
        let backend = db.backend();
        let store = Arc::new(InventoryStore::new(db, 5));
        let product = primitives::id::new_id("prod");
        let warehouse = warehouse(&store, "A").await;
        let variant = commerce::variant::default_variant_id(&product);
        restock(&store, &variant, &product, &warehouse, 100).await;
        let expires = primitives::time::now_millis() + 60_000;
        let attempts: Vec<_> = (0..20)
            .map(|_| {
                let (store, product) = (store.clone(), product.clone());
                tokio::spawn(async move {
                    store
                        .reserve(
                            "ord_same",
                            &[(commerce::variant::default_variant_id(&product), 3)],
                            expires,
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut fresh = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                ReserveOutcome::Reserved(_) => fresh += 1,
                ReserveOutcome::Existing(r) => assert_eq!(r.lines[0].quantity, 3),
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!(fresh, 1, "{backend:?}");
        let levels = store
            .levels_of_products(std::slice::from_ref(&product))
            .await
            .unwrap();
        assert_eq!(levels[0].reserved, 3, "{backend:?}");
    }
}

/// Two variants of one product race at once: the scarce one sells exactly its last units, the
/// other is untouched by the scarce one's refusals and sells every order.
#[tokio::test]
async fn buyers_racing_for_a_scarce_variant_do_not_touch_its_sibling() {
    for db in every_backend(&inventory::MIGRATIONS).await {
        let backend = db.backend();
        let store = Arc::new(InventoryStore::new(db, 5));
        let product = primitives::id::new_id("prod");
        let (scarce, plenty) = (primitives::id::new_id("var"), primitives::id::new_id("var"));
        let warehouse = warehouse(&store, "A").await;
        for (variant, units) in [(&scarce, 10), (&plenty, 500)] {
            restock(&store, variant, &product, &warehouse, units).await;
        }
        let expires = primitives::time::now_millis() + 60_000;
        let attempts: Vec<_> = (0..400)
            .map(|i| {
                let store = store.clone();
                let variant = if i % 2 == 0 { &scarce } else { &plenty }.clone();
                tokio::spawn(async move {
                    let outcome = store
                        .reserve(&format!("ord_{i}"), &[(variant.clone(), 1)], expires)
                        .await
                        .unwrap();
                    (variant, outcome)
                })
            })
            .collect();
        let (mut scarce_sold, mut plenty_sold) = (0, 0);
        for attempt in attempts {
            match attempt.await.unwrap() {
                (v, ReserveOutcome::Reserved(_)) if v == scarce => scarce_sold += 1,
                (_, ReserveOutcome::Reserved(_)) => plenty_sold += 1,
                (v, ReserveOutcome::Short(lines)) => {
                    assert_eq!(v, scarce, "{backend:?}: the plentiful variant ran short");
                    assert_eq!(lines[0].variant_id, scarce);
                }
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!((scarce_sold, plenty_sold), (10, 200), "{backend:?}");
        let levels = store
            .levels_of_products(std::slice::from_ref(&product))
            .await
            .unwrap();
        let reserved = |variant: &str| {
            levels
                .iter()
                .find(|l| l.variant_id == variant)
                .map(|l| (l.on_hand, l.reserved))
                .unwrap()
        };
        assert_eq!(reserved(&scarce), (10, 10), "{backend:?}");
        assert_eq!(reserved(&plenty), (500, 200), "{backend:?}");
    }
}
