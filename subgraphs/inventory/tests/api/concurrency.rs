//! Real concurrency against the real databases: many reservations racing for the last units.

use std::sync::Arc;

use inventory::domain::AdjustmentKind;
use inventory::store::{
    AdjustOutcome, AdjustmentRequest, InventoryStore, ReserveOutcome, Warehouse,
};
use storage::db::testing::every_backend;

#[tokio::test]
async fn two_hundred_concurrent_reservations_for_the_last_ten_units_reserve_exactly_ten() {
    for db in every_backend(&inventory::MIGRATIONS).await {
        let backend = db.backend();
        let store = Arc::new(InventoryStore::new(db, 5));
        let product = primitives::id::new_id("prod");
        for (code, units) in [("A", 6), ("B", 4)] {
            let warehouse = Warehouse {
                id: primitives::id::new_id("wh"),
                code: code.into(),
                name: code.into(),
                active: true,
                created_at: 0,
            };
            store.create_warehouse(&warehouse).await.unwrap();
            let outcome = store
                .adjust(&AdjustmentRequest {
                    product_id: product.clone(),
                    warehouse_id: warehouse.id.clone(),
                    kind: AdjustmentKind::Restock,
                    delta: units,
                    reason: "setup".into(),
                    actor: "test".into(),
                    idempotency_key: primitives::id::new_id("key"),
                })
                .await
                .unwrap();
            assert!(matches!(outcome, AdjustOutcome::Applied(_)));
        }
        let expires = primitives::time::now_millis() + 60_000;
        let attempts: Vec<_> = (0..200)
            .map(|i| {
                let (store, product) = (store.clone(), product.clone());
                tokio::spawn(async move {
                    store
                        .reserve(&format!("ord_{i}"), &[(product, 1)], expires)
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
        let levels = store.levels(std::slice::from_ref(&product)).await.unwrap();
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
        let warehouse = Warehouse {
            id: primitives::id::new_id("wh"),
            code: "A".into(),
            name: "A".into(),
            active: true,
            created_at: 0,
        };
        store.create_warehouse(&warehouse).await.unwrap();
        store
            .adjust(&AdjustmentRequest {
                product_id: product.clone(),
                warehouse_id: warehouse.id.clone(),
                kind: AdjustmentKind::Restock,
                delta: 100,
                reason: "setup".into(),
                actor: "test".into(),
                idempotency_key: primitives::id::new_id("key"),
            })
            .await
            .unwrap();
        let expires = primitives::time::now_millis() + 60_000;
        let attempts: Vec<_> = (0..20)
            .map(|_| {
                let (store, product) = (store.clone(), product.clone());
                tokio::spawn(async move {
                    store
                        .reserve("ord_same", &[(product, 3)], expires)
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
        let levels = store.levels(std::slice::from_ref(&product)).await.unwrap();
        assert_eq!(levels[0].reserved, 3, "{backend:?}");
    }
}
