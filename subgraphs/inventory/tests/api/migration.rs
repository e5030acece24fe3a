//! A database made before variants: its stock, ledger, thresholds and held reservations belong
//! to each product's default variant after the migration, and a held reservation still confirms.

use inventory::domain::ReservationStatus;
use inventory::store::{InventoryStore, StockItem, TransitionOutcome};

#[tokio::test]
async fn stock_from_before_variants_belongs_to_each_products_default_variant() {
    static BEFORE_VARIANTS: storage::migrations::Migrations =
        storage::migrations!("../../migrations/inventory", ["0001_inventory.sql"]);
    for url in storage::db::testing::every_backend_url().await {
        let old = storage::db::Database::connect(&url, 2, &BEFORE_VARIANTS)
            .await
            .unwrap();
        let product = primitives::id::new_id("prod");
        let reference = primitives::id::new_id("ord");
        let far = primitives::time::now_millis() + 3_600_000;
        // Rows as the code before variants wrote them: 10 on hand, 3 held for an order.
        for (sql, binds) in [
            (
                "INSERT INTO warehouses (id, code, name, active, created_at, updated_at) \
                 VALUES ('wh_old', 'OLD', 'Old', 1, 1, 1)",
                vec![],
            ),
            (
                "INSERT INTO stock (product_id, warehouse_id, on_hand, reserved, updated_at) \
                 VALUES ($1, 'wh_old', 10, 3, 1)",
                vec![product.clone()],
            ),
            (
                "INSERT INTO stock_ledger (id, product_id, warehouse_id, kind, delta, \
                 on_hand_after, reason, actor, idempotency_key, created_at) \
                 VALUES ('adj_1', $1, 'wh_old', 'restock', 10, 10, 'old', 'usr_1', 'key-1', 1)",
                vec![product.clone()],
            ),
            (
                "INSERT INTO low_stock_thresholds (product_id, threshold) VALUES ($1, 2)",
                vec![product.clone()],
            ),
            (
                "INSERT INTO reservations (order_reference, status, expires_at, created_at, \
                 updated_at) VALUES ($1, 'held', $2, 1, 1)",
                vec![reference.clone(), far.to_string()],
            ),
            (
                "INSERT INTO reservation_lines (order_reference, product_id, warehouse_id, \
                 quantity) VALUES ($1, $2, 'wh_old', 3)",
                vec![reference.clone(), product.clone()],
            ),
        ] {
            let mut query = sqlx::query(sql);
            for (i, value) in binds.iter().enumerate() {
                // The reservation's expiry is the one number among the binds.
                query = if sql.contains("reservations") && i == 1 {
                    query.bind(value.parse::<i64>().unwrap())
                } else {
                    query.bind(value)
                };
            }
            query.execute(old.pool()).await.unwrap();
        }
        old.close().await;

        let migrated = storage::db::Database::connect(&url, 2, &inventory::MIGRATIONS)
            .await
            .unwrap();
        let store = InventoryStore::new(migrated, 5);
        let variant = commerce::variant::default_variant_id(&product);
        let levels = store
            .levels_of_variants(std::slice::from_ref(&variant))
            .await
            .unwrap();
        assert_eq!(levels.len(), 1, "{url}");
        assert_eq!(
            (
                levels[0].product_id.as_str(),
                levels[0].on_hand,
                levels[0].reserved
            ),
            (product.as_str(), 10, 3),
            "{url}"
        );
        let ledger = store
            .adjustments(&StockItem::Variant(variant.clone()), None, 10)
            .await
            .unwrap();
        assert_eq!(ledger.len(), 1, "{url}");
        assert_eq!(ledger[0].product_id, product);
        // The held order confirms against the migrated rows: 3 leave with it.
        let confirmed = store.confirm(&reference).await.unwrap();
        let TransitionOutcome::Done(reservation) = confirmed else {
            panic!("{url}: {confirmed:?}")
        };
        assert_eq!(reservation.status, ReservationStatus::Confirmed);
        assert_eq!(reservation.lines[0].variant_id, variant);
        let after = store
            .levels_of_products(std::slice::from_ref(&product))
            .await
            .unwrap();
        assert_eq!((after[0].on_hand, after[0].reserved), (7, 0), "{url}");
    }
}
