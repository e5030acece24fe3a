//! The catalog store behaves the same on PostgreSQL and SQLite, and a database from before
//! variants migrates to single-variant products.

use catalog::store::{
    BrandRow, CatalogStore, CategoryRow, ProductCursor, ProductFilter, ProductOrder, ProductRow,
    StoreError, VariantRow,
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
        options: "[]".into(),
        meta_title: None,
        meta_description: None,
        tax_class: "standard".into(),
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
                attributes: Vec::new(),
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
                .save_product(&row, None, &[], &changed(&row))
                .await
                .unwrap();
        }
        let mut same_sku = product("prod_c", "SKU-A", 1, "active");
        same_sku.slug = "another-slug".into();
        let duplicate = store
            .save_product(&same_sku, None, &[], &changed(&same_sku))
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
            .save_product(&updated, Some(1), &[], &changed(&updated))
            .await
            .unwrap();
        // A save based on what was read before that one changes nothing.
        let stale = product("prod_b", "SKU-B", 999, "active");
        let conflict = store
            .save_product(&stale, Some(1), &[], &changed(&stale))
            .await;
        assert!(
            matches!(conflict, Err(StoreError::Conflict)),
            "{backend:?}: {conflict:?}"
        );
        assert_eq!(
            store.products_by_ids(&["prod_b".into()]).await.unwrap()[0],
            updated
        );
        // A new slug: the old one still finds the product; a failed save keeps no history.
        let mut moved = updated.clone();
        moved.slug = "sku-b-moved".into();
        moved.updated_at = 10;
        store
            .save_product(&moved, Some(9), &[], &changed(&moved))
            .await
            .unwrap();
        let mut failed = moved.clone();
        failed.slug = "never-saved".into();
        assert!(store
            .save_product(&failed, Some(9), &[], &changed(&failed))
            .await
            .is_err());
        for slug in ["sku-b", "sku-b-moved"] {
            let found = store.product_by_slug(slug).await.unwrap();
            assert_eq!(
                found.map(|p| p.slug),
                Some("sku-b-moved".into()),
                "{backend:?}"
            );
        }
        assert_eq!(store.product_by_slug("never-saved").await.unwrap(), None);
        // The failed save left no event either.
        assert_eq!(
            outbox(&db).await,
            vec!["prod_a", "prod_b", "prod_b", "prod_b"],
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

#[tokio::test]
async fn a_product_without_options_has_one_default_variant_that_follows_it() {
    for db in every_backend(&catalog::MIGRATIONS).await {
        let backend = db.backend();
        let store = seeded(db.clone()).await;
        let mut lamp = product("prod_lamp", "LAMP-1", 1200, "active");
        lamp.weight_grams = Some(900);
        store
            .save_product(&lamp, None, &[], &changed(&lamp))
            .await
            .unwrap();
        store
            .insert_products(&[product("prod_seed", "SEED-1", 700, "active")])
            .await
            .unwrap();

        let variants = store
            .variants_of_products(&["prod_seed".into(), "prod_lamp".into()])
            .await
            .unwrap();
        assert_eq!(
            variants,
            vec![
                VariantRow::default_of(&lamp),
                VariantRow::default_of(&product("prod_seed", "SEED-1", 700, "active")),
            ],
            "{backend:?}"
        );
        assert_eq!(variants[0].id, "var_prod_lamp");
        assert_eq!(variants[0].option_values, "[]");

        // A change of the product's SKU, price, weight or status reaches its default variant.
        let mut changed_lamp = lamp.clone();
        changed_lamp.sku = "LAMP-2".into();
        changed_lamp.price_minor = 1500;
        changed_lamp.weight_grams = Some(950);
        changed_lamp.status = "archived".into();
        changed_lamp.updated_at = 2;
        store
            .save_product(&changed_lamp, Some(1), &[], &changed(&changed_lamp))
            .await
            .unwrap();
        let by_sku = store.variants_by_skus(&["LAMP-2".into()]).await.unwrap();
        assert_eq!(
            by_sku,
            vec![VariantRow::default_of(&changed_lamp)],
            "{backend:?}"
        );
        let by_id = store
            .variants_by_ids(&["var_prod_lamp".into()])
            .await
            .unwrap();
        assert_eq!(by_id, by_sku, "{backend:?}");
        assert!(store
            .variants_by_skus(&["LAMP-1".into()])
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn option_variants_are_unique_per_combination_and_the_default_is_archived() {
    for db in every_backend(&catalog::MIGRATIONS).await {
        let backend = db.backend();
        let store = seeded(db.clone()).await;
        let shirt = product("prod_shirt", "TEE", 2000, "active");
        store
            .save_product(&shirt, None, &[], &changed(&shirt))
            .await
            .unwrap();
        let mut with_options = shirt.clone();
        with_options.options = r#"[{"name":"Size","values":["S","M"]}]"#.into();
        with_options.updated_at = 2;
        let variant = |id: &str, sku: &str, size: &str| VariantRow {
            id: id.into(),
            sku: sku.into(),
            position: 1,
            option_values: format!(r#"[{{"name":"Size","value":"{size}"}}]"#),
            status: "active".into(),
            ..VariantRow::default_of(&shirt)
        };
        store
            .save_product(
                &with_options,
                Some(1),
                &[
                    variant("var_s", "TEE-S", "S"),
                    variant("var_m", "TEE-M", "M"),
                ],
                &changed(&with_options),
            )
            .await
            .unwrap();
        let variants = store
            .variants_of_products(&["prod_shirt".into()])
            .await
            .unwrap();
        assert_eq!(variants.len(), 3, "{backend:?}");
        assert_eq!(variants[0].id, "var_prod_shirt");
        assert_eq!(variants[0].status, "archived", "{backend:?}");

        // The same combination twice is refused by the database, whatever the caller checked.
        let mut again = with_options.clone();
        again.updated_at = 3;
        let duplicate = store
            .save_product(
                &again,
                Some(2),
                &[variant("var_m2", "TEE-M2", "M")],
                &changed(&again),
            )
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::Duplicate("option values"))),
            "{backend:?}: {duplicate:?}"
        );
        let duplicate_sku = store
            .save_product(
                &again,
                Some(2),
                &[variant("var_l", "TEE-S", "L")],
                &changed(&again),
            )
            .await;
        assert!(
            matches!(duplicate_sku, Err(StoreError::Duplicate("sku"))),
            "{backend:?}: {duplicate_sku:?}"
        );
        assert_eq!(
            store
                .variants_of_products(&["prod_shirt".into()])
                .await
                .unwrap()
                .len(),
            3,
            "{backend:?}: nothing half-saved"
        );
    }
}

/// A database made before variants existed: products inserted under the first two migrations
/// get their default variants when the catalog's migrations run again.
#[tokio::test]
async fn products_from_before_variants_become_single_variant_products() {
    static BEFORE_VARIANTS: storage::migrations::Migrations = storage::migrations!(
        "../../migrations/catalog",
        ["0001_catalog.sql", "0002_events.sql"]
    );
    for url in storage::db::testing::every_backend_url().await {
        let old = storage::db::Database::connect(&url, 2, &BEFORE_VARIANTS)
            .await
            .unwrap();
        // The brand and categories the way the old code wrote them, too.
        for statement in [
            "INSERT INTO brands (id, name, slug, created_at) VALUES ('brand_1', 'One', 'one', 1)",
            "INSERT INTO categories (id, parent_id, name, slug, created_at) \
             VALUES ('cat_root', NULL, 'cat_root', 'cat-root', 1)",
            "INSERT INTO categories (id, parent_id, name, slug, created_at) \
             VALUES ('cat_leaf', 'cat_root', 'cat_leaf', 'cat-leaf', 1)",
        ] {
            sqlx::query(statement).execute(old.pool()).await.unwrap();
        }
        let rows = [
            product("prod_01A", "OLD-1", 1999, "active"),
            product("prod_01B", "OLD-2", 500, "archived"),
        ];
        // Today's insert also writes variants, which the old schema has no table for: insert
        // the products the way the old code did.
        for row in &rows {
            sqlx::query(
                "INSERT INTO products (id, sku, slug, name, description, brand_id, category_id, \
                 price_minor, currency, attributes, media, status, weight_grams, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, '', 'brand_1', 'cat_leaf', $5, 'USD', '[]', \
                 '[]', $6, NULL, 1, 1)",
            )
            .bind(&row.id)
            .bind(&row.sku)
            .bind(&row.slug)
            .bind(&row.name)
            .bind(row.price_minor)
            .bind(&row.status)
            .execute(old.pool())
            .await
            .unwrap();
        }
        old.close().await;

        let migrated = storage::db::Database::connect(&url, 2, &catalog::MIGRATIONS)
            .await
            .unwrap();
        let store = CatalogStore::new(migrated);
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let variants = store.variants_of_products(&ids).await.unwrap();
        assert_eq!(
            variants,
            rows.iter().map(VariantRow::default_of).collect::<Vec<_>>(),
            "{url}"
        );
        // The old SKUs find the products and their variants alike.
        let skus: Vec<String> = rows.iter().map(|r| r.sku.clone()).collect();
        assert_eq!(store.products_by_skus(&skus).await.unwrap().len(), 2);
        assert_eq!(store.variants_by_skus(&skus).await.unwrap().len(), 2);
    }
}
