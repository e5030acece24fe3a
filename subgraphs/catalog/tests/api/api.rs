//! The catalog API alone over HTTP (`spawn_app`): admin writes reach search through the event
//! bus, and a stored row that does not parse is an internal error, never a guessed value.

use std::time::Duration;

use catalog::Catalog;
use kit::testing::{error_code, TestApp};
use serde_json::{json, Value};

async fn start() -> TestApp<Catalog> {
    catalog::spawn_with_demo(10).await
}

#[tokio::test]
async fn an_admins_new_product_is_found_once_its_event_is_indexed() {
    let app = start().await;
    let admin = app.tokens.admin("usr_admin");
    let category = app
        .data("{ categories { children { id } } }", json!({}), None)
        .await["categories"][0]["children"][0]["id"]
        .clone();
    let mut indexed = app.subgraph.service.indexer.indexed();
    let before = *indexed.borrow_and_update();
    // A price in another currency than the shop's (USD) is refused.
    let foreign = app
        .data(
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } userErrors { field code message } } }",
            json!({ "input": { "sku": "WOMBAT-EUR", "name": "Wombat Burrow Lamp", "categoryId": category,
                "status": "ACTIVE", "price": { "amount": "12.00", "currencyCode": "EUR" } } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        foreign["createProduct"]["userErrors"],
        json!([{ "field": ["input", "price"], "code": "INVALID_PRICE",
            "message": "prices must be in USD, the shop's currency" }])
    );
    let created = app
        .data(
            "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } userErrors { code } } }",
            json!({ "input": { "sku": "WOMBAT-1", "name": "Wombat Burrow Lamp", "categoryId": category,
                "status": "ACTIVE", "price": { "amount": "12.00", "currencyCode": "USD" } } }),
            Some(&admin),
        )
        .await;
    assert_eq!(created["createProduct"]["userErrors"], json!([]));
    tokio::time::timeout(Duration::from_secs(10), indexed.wait_for(|n| *n > before))
        .await
        .unwrap()
        .unwrap();
    let found = app
        .data(
            "{ searchProducts(query: \"wombat\") { totalCount edges { node { sku price { amount currencyCode } } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        found["searchProducts"]["edges"],
        json!([{ "node": { "sku": "WOMBAT-1", "price": { "amount": "12.00", "currencyCode": "USD" } } }])
    );
    let customer = app.tokens.customer("usr_c");
    let body = app
        .graphql(
            "mutation { archiveProduct(input: { id: \"prod_x\" }) { userErrors { code } } }",
            json!({}),
            Some(&customer),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn a_stored_product_that_does_not_parse_is_an_internal_error() {
    let app = start().await;
    let id = app
        .data(
            "{ products(first: 1) { edges { node { id } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (column, value) in [
        ("currency", "DOUBLOONS"),
        ("status", "limbo"),
        ("attributes", "{oops"),
    ] {
        let fresh = primitives::id::new_id("prod");
        sqlx::query(
            "INSERT INTO products SELECT $1, sku || $1, slug || $1, name, description, brand_id, \
             category_id, price_minor, currency, attributes, media, status, weight_grams, \
             created_at, updated_at FROM products WHERE id = $2",
        )
        .bind(&fresh)
        .bind(&id)
        .execute(app.database.pool())
        .await
        .unwrap();
        sqlx::query(&format!("UPDATE products SET {column} = $1 WHERE id = $2"))
            .bind(value)
            .bind(&fresh)
            .execute(app.database.pool())
            .await
            .unwrap();
        let body = app
            .graphql(
                "query($id: ID!) { product(id: $id) { price { amount currencyCode } status } }",
                json!({ "id": fresh }),
                None,
            )
            .await;
        assert_eq!(
            error_code(&body),
            "INTERNAL_SERVER_ERROR",
            "{column}: {body}"
        );
        assert!(
            !body.to_string().contains(value),
            "no internal detail leaks: {body}"
        );
    }
}

#[tokio::test]
async fn a_category_page_filters_its_products_by_brand_and_price() {
    let app = start().await;
    let everything = app
        .data(
            "{ categories { slug products(first: 100) { totalCount edges { node { price { amount } brand { id } } } } } }",
            json!({}),
            None,
        )
        .await;
    let category = &everything["categories"][0];
    let slug = category["slug"].as_str().unwrap();
    let products = category["products"]["edges"].as_array().unwrap();
    let brand = products[0]["node"]["brand"]["id"].as_str().unwrap();
    let price = |p: &serde_json::Value| -> f64 {
        p["node"]["price"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let expected = products
        .iter()
        .filter(|p| p["node"]["brand"]["id"] == brand && price(p) >= 10.0 && price(p) <= 500.0)
        .count();
    let filtered = app
        .data(
            "query($slug: String!, $brands: [ID!]) { category(slug: $slug) { products(first: 100, brandIds: $brands, minPrice: \"10\", maxPrice: \"500.00\") { totalCount edges { node { price { amount } brand { id } } } } } }",
            json!({ "slug": slug, "brands": [brand] }),
            None,
        )
        .await;
    let page = &filtered["category"]["products"];
    assert!(expected > 0);
    assert_eq!(page["totalCount"], expected);
    for product in page["edges"].as_array().unwrap() {
        assert_eq!(product["node"]["brand"]["id"], brand);
        assert!((10.0..=500.0).contains(&price(product)));
    }
    let refused = app
        .graphql(
            "query($slug: String!) { category(slug: $slug) { products(minPrice: \"ten\") { totalCount } } }",
            json!({ "slug": slug }),
            None,
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
}

#[tokio::test]
async fn every_product_sells_its_default_variant_found_by_id_or_sku() {
    let app = start().await;
    let products = app
        .data(
            "{ products(first: 10) { edges { node { id sku price { amount } weightGrams variants {
                id sku optionValues { name value } price { amount } compareAtPrice { amount }
                weightGrams status } } } } }",
            json!({}),
            None,
        )
        .await;
    let edges = products["products"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 10);
    for edge in edges {
        let product = &edge["node"];
        assert_eq!(
            product["variants"],
            json!([{ "id": format!("var_{}", product["id"].as_str().unwrap()),
                "sku": product["sku"], "optionValues": [], "price": product["price"],
                "compareAtPrice": null, "weightGrams": product["weightGrams"], "status": "ACTIVE" }])
        );
    }
    // Other subgraphs will hold a variant's id or SKU: both resolve, with the product.
    let product = &edges[0]["node"];
    let variant_id = product["variants"][0]["id"].clone();
    let entities = app
        .data(
            "query($reps: [_Any!]!) { _entities(representations: $reps) {
                ... on ProductVariant { id sku product { id } } } }",
            json!({ "reps": [
                { "__typename": "ProductVariant", "id": variant_id },
                { "__typename": "ProductVariant", "sku": product["sku"] },
                { "__typename": "ProductVariant", "id": "var_missing" },
            ] }),
            None,
        )
        .await;
    let found =
        json!({ "id": variant_id, "sku": product["sku"], "product": { "id": product["id"] } });
    assert_eq!(entities["_entities"], json!([found, found, null]));

    // An admin's price change reaches the default variant.
    let admin = app.tokens.admin("usr_admin");
    let updated = app
        .data(
            "mutation($id: ID!) { updateProduct(input: { id: $id, price: { amount: \"77.50\", currencyCode: USD } }) {
                product { variants { price { amount } } } userErrors { code } } }",
            json!({ "id": product["id"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        updated["updateProduct"],
        json!({ "product": { "variants": [{ "price": { "amount": "77.50" } }] }, "userErrors": [] })
    );
}

#[tokio::test]
async fn an_old_slug_still_finds_its_product() {
    let app = start().await;
    let admin = app.tokens.admin("usr_admin");
    let product = app
        .data(
            "{ products(first: 1) { edges { node { id slug } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"][0]["node"]
        .clone();
    let old = product["slug"].as_str().unwrap().to_string();
    for slug in ["renamed-once", "renamed-twice"] {
        let renamed = app
            .data(
                "mutation($id: ID!, $slug: String!) { updateProduct(input: { id: $id, slug: $slug }) {
                    product { slug } userErrors { code } } }",
                json!({ "id": product["id"], "slug": slug }),
                Some(&admin),
            )
            .await;
        assert_eq!(renamed["updateProduct"]["product"]["slug"], slug);
    }
    let by_slug = |slug: String| {
        let app = &app;
        async move {
            app.data(
                "query($slug: String!) { product(slug: $slug) { id slug } }",
                json!({ "slug": slug }),
                None,
            )
            .await["product"]
                .clone()
        }
    };
    // Every earlier slug finds the product, which names its current one.
    for slug in [
        old.clone(),
        "renamed-once".to_string(),
        "renamed-twice".to_string(),
    ] {
        assert_eq!(
            by_slug(slug).await,
            json!({ "id": product["id"], "slug": "renamed-twice" })
        );
    }
    assert_eq!(by_slug("never-used".into()).await, Value::Null);
    // A slug another product takes is that product's from then on.
    let other = app
        .data(
            "{ products(first: 2) { edges { node { id } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"][1]["node"]["id"]
        .clone();
    app.data(
        "mutation($id: ID!) { updateProduct(input: { id: $id, slug: \"renamed-once\" }) { userErrors { code } } }",
        json!({ "id": other }),
        Some(&admin),
    )
    .await;
    assert_eq!(by_slug("renamed-once".into()).await["id"], other);
}

/// How many products the search index holds.
async fn indexed_products(app: &TestApp<Catalog>) -> u64 {
    app.subgraph.service.search.document_count().await.unwrap()
}

/// Sets a product's status behind the catalog's back (no event).
async fn set_status(app: &TestApp<Catalog>, id: &str, status: &str) {
    sqlx::query("UPDATE products SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(id)
        .execute(app.database.pool())
        .await
        .unwrap();
}

/// A fetched batch of `product.changed` events is indexed at once (the state after them); each
/// event then only counts, and one the batch missed is indexed on its own.
#[tokio::test]
async fn a_batch_of_product_changes_is_indexed_at_once() {
    use event_bus::consumer::Handler;
    use event_bus::Event;
    use events::catalog::ProductChanged;

    let app = start().await;
    let products = app
        .data(
            "{ products(first: 3) { edges { node { id sku } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"]
        .clone();
    let id = |i: usize| products[i]["node"]["id"].as_str().unwrap().to_string();
    let all = indexed_products(&app).await;
    set_status(&app, &id(0), "archived").await;
    set_status(&app, &id(1), "archived").await;
    assert_eq!(
        indexed_products(&app).await,
        all,
        "unchanged without an event"
    );

    let event = |i: usize| {
        Event::new(
            "catalog",
            &ProductChanged {
                product_id: id(i),
                status: "archived".into(),
            },
        )
    };
    let (first, second, alone) = (event(0), event(1), event(2));
    let indexer = app.subgraph.service.indexer.clone();
    let handler = catalog::consumers::product_changed::ProductChanges::new(indexer.clone());
    let mut counted = indexer.indexed();
    let before = *counted.borrow_and_update();
    handler.before_batch(&[first.clone(), second.clone()]).await;
    assert_eq!(
        indexed_products(&app).await,
        all - 2,
        "one batch took both out"
    );

    // On sale again behind its back: an event the batch indexed is only counted.
    set_status(&app, &id(0), "active").await;
    handler.handle(&first).await.unwrap();
    handler.handle(&second).await.unwrap();
    assert_eq!(*counted.borrow_and_update(), before + 2);
    assert_eq!(indexed_products(&app).await, all - 2);
    // An event outside the batch is indexed on its own.
    set_status(&app, &id(2), "archived").await;
    handler.handle(&alone).await.unwrap();
    assert_eq!(indexed_products(&app).await, all - 3);
    assert_eq!(*counted.borrow_and_update(), before + 3);
}
