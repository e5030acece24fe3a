//! The catalog store behaves the same on PostgreSQL and SQLite.

use catalog::store::{
    BrandRow, CatalogStore, CategoryRow, ProductCursor, ProductFilter, ProductOrder, ProductRow,
    StoreError,
};
use event_bus::Event;
use events::catalog::ProductChanged;
use kit::pagination::PageRequest;
use sqlx::Row;
use storage::db::testing::every_backend;

fn product(id: &str, sku: &str, price: i64, status: &str) -> ProductRow {
    ProductRow {
        id: id.into(),
        sku: sku.into(),
        slug: sku.to_lowercase(),
        name: format!("Product {sku}"),
        description: String::new(),
        brand_id: Some("brand_1".into()),
        category_id: "cat_leaf".into(),
        price_minor: price,
        currency: "USD".into(),
        attributes: "[]".into(),
        media: "[]".into(),
        status: status.into(),
        weight_grams: None,
        created_at: 1,
        updated_at: 1,
    }
}

/// The `ProductChanged` event saved with `product`.
fn changed(product: &ProductRow) -> Event {
    Event::new(
        "catalog",
        &ProductChanged {
            product_id: product.id.clone(),
            status: product.status.clone(),
        },
    )
}

/// The aggregate ids of the events in the outbox, oldest first.
async fn outbox(db: &storage::db::Database) -> Vec<String> {
    sqlx::query("SELECT body FROM outbox_events ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let body: String = row.try_get("body").unwrap();
            serde_json::from_str::<Event>(&body).unwrap().aggregate_id
        })
        .collect()
}

async fn seeded(db: storage::db::Database) -> CatalogStore {
    let store = CatalogStore::new(db);
    store
        .insert_brand(&BrandRow {
            id: "brand_1".into(),
            name: "One".into(),
            slug: "one".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    for (id, parent) in [("cat_root", None), ("cat_leaf", Some("cat_root"))] {
        store
            .insert_category(&CategoryRow {
                id: id.into(),
                parent_id: parent.map(Into::into),
                name: id.into(),
                slug: id.replace('_', "-"),
                created_at: 1,
            })
            .await
            .unwrap();
    }
    store
}

#[tokio::test]
async fn products_are_saved_with_their_event_and_read_in_batches() {
    for db in every_backend(&catalog::MIGRATIONS).await {
        let backend = db.backend();
        let store = seeded(db.clone()).await;
        for row in [
            product("prod_a", "SKU-A", 500, "active"),
            product("prod_b", "SKU-B", 300, "draft"),
        ] {
            store
                .save_product(&row, true, &changed(&row))
                .await
                .unwrap();
        }
        let mut same_sku = product("prod_c", "SKU-A", 1, "active");
        same_sku.slug = "another-slug".into();
        let duplicate = store
            .save_product(&same_sku, true, &changed(&same_sku))
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::Duplicate("sku"))),
            "{backend:?}: {duplicate:?}"
        );

        let mut by_id = store
            .products_by_ids(&["prod_b".into(), "prod_a".into(), "prod_x".into()])
            .await
            .unwrap();
        by_id.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            by_id,
            vec![
                product("prod_a", "SKU-A", 500, "active"),
                product("prod_b", "SKU-B", 300, "draft")
            ],
            "{backend:?}"
        );
        assert_eq!(
            store.products_by_skus(&["SKU-B".into()]).await.unwrap()[0].id,
            "prod_b"
        );
        assert_eq!(
            store.product_by_slug("sku-a").await.unwrap().unwrap().id,
            "prod_a"
        );

        // The failed insert left no event behind.
        assert_eq!(outbox(&db).await, vec!["prod_a", "prod_b"], "{backend:?}");

        let mut updated = product("prod_b", "SKU-B", 350, "active");
        updated.updated_at = 9;
        store
            .save_product(&updated, false, &changed(&updated))
            .await
            .unwrap();
        assert_eq!(
            store.products_by_ids(&["prod_b".into()]).await.unwrap()[0],
            updated
        );
        assert_eq!(
            outbox(&db).await,
            vec!["prod_a", "prod_b", "prod_b"],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn listings_page_by_key_in_both_directions() {
    for db in every_backend(&catalog::MIGRATIONS).await {
        let backend = db.backend();
        let store = seeded(db).await;
        let rows: Vec<ProductRow> = (0..25)
            .map(|i| {
                product(
                    &format!("prod_{i:02}"),
                    &format!("SKU-{i:02}"),
                    1000 - (i % 5) * 100,
                    if i % 10 == 9 { "draft" } else { "active" },
                )
            })
            .collect();
        store.insert_products(&rows).await.unwrap();
        let active = ProductFilter {
            status: Some("active".into()),
            ..Default::default()
        };
        assert_eq!(
            store.count_products(&active).await.unwrap(),
            23,
            "{backend:?}"
        );

        for order in [
            ProductOrder::Newest,
            ProductOrder::PriceAscending,
            ProductOrder::PriceDescending,
        ] {
            let mut seen = Vec::new();
            let mut page = PageRequest::<ProductCursor> {
                cursor: None,
                limit: 4,
                backward: false,
            };
            loop {
                let mut got = store.list_products(&active, order, &page).await.unwrap();
                let more = got.len() > 4;
                got.truncate(4);
                let Some(last) = got.last() else { break };
                page.cursor = Some(ProductCursor {
                    price: Some(last.price_minor),
                    id: last.id.clone(),
                });
                seen.extend(got.iter().map(|p| (p.price_minor, p.id.clone())));
                if !more {
                    break;
                }
            }
            assert_eq!(seen.len(), 23, "{backend:?} {order:?}");
            let mut expected = seen.clone();
            match order {
                ProductOrder::Newest => expected.sort_by(|a, b| b.1.cmp(&a.1)),
                ProductOrder::PriceAscending => expected.sort(),
                ProductOrder::PriceDescending => expected.sort_by(|a, b| b.cmp(a)),
            }
            assert_eq!(seen, expected, "{backend:?} {order:?}");

            // Backward from the 9th row returns rows 5..8 in display order.
            let cursor = ProductCursor {
                price: Some(seen[8].0),
                id: seen[8].1.clone(),
            };
            let mut back = store
                .list_products(
                    &active,
                    order,
                    &PageRequest {
                        cursor: Some(cursor),
                        limit: 4,
                        backward: true,
                    },
                )
                .await
                .unwrap();
            back.truncate(4);
            back.reverse();
            let back: Vec<_> = back.into_iter().map(|p| (p.price_minor, p.id)).collect();
            assert_eq!(back, seen[4..8].to_vec(), "{backend:?} {order:?}");
        }

        let filtered = ProductFilter {
            status: Some("active".into()),
            category_ids: vec!["cat_leaf".into()],
            brand_ids: vec!["brand_1".into()],
            min_price_minor: Some(700),
            max_price_minor: Some(800),
        };
        assert_eq!(
            store.count_products(&filtered).await.unwrap(),
            10,
            "{backend:?}"
        );
    }
}
