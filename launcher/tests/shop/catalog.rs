use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{error_code, TestShop};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String, $sort: ProductSort, $filter: ProductFilterInput) {
    products(first: $first, after: $after, last: $last, before: $before, sort: $sort, filter: $filter) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id slug status price { amount } } } } }";

/// Runs `change` (a product mutation) and waits until the catalog's indexer has indexed the
/// product change it published (the index follows the event bus).
async fn indexed_after<T>(shop: &TestShop, change: impl std::future::Future<Output = T>) -> T {
    let mut indexed = shop
        .shop
        .subgraph::<catalog::Catalog>()
        .service
        .indexer
        .indexed();
    let before = *indexed.borrow_and_update();
    let result = change.await;
    tokio::time::timeout(Duration::from_secs(10), indexed.wait_for(|n| *n > before))
        .await
        .expect("the change is indexed within 10 s")
        .expect("the indexer lives as long as the shop");
    result
}

fn ids(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paging_through_products_visits_each_active_product_once() {
    let shop = TestShop::start(120).await;
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut total;
    loop {
        let data = shop
            .data(PAGE, json!({ "first": 25, "after": after }), None)
            .await;
        let page = &data["products"];
        total = page["totalCount"].as_i64().unwrap();
        for edge in page["edges"].as_array().unwrap() {
            assert_eq!(edge["node"]["status"], "ACTIVE");
            assert!(
                seen.insert(edge["node"]["id"].as_str().unwrap().to_string()),
                "duplicate"
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len() as i64, total);
    assert!(
        total > 100 && total < 120,
        "about 95% of demo products are active: {total}"
    );

    // Price ordering, and going back from the second page returns the first.
    let first = shop
        .data(PAGE, json!({ "first": 10, "sort": "PRICE_ASC" }), None)
        .await;
    let prices: Vec<f64> = first["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["node"]["price"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let end = first["products"]["pageInfo"]["endCursor"].clone();
    let second = shop
        .data(
            PAGE,
            json!({ "first": 10, "after": end, "sort": "PRICE_ASC" }),
            None,
        )
        .await;
    let start = second["products"]["pageInfo"]["startCursor"].clone();
    let back = shop
        .data(
            PAGE,
            json!({ "last": 10, "before": start, "sort": "PRICE_ASC" }),
            None,
        )
        .await;
    assert_eq!(ids(&back["products"]), ids(&first["products"]));

    // Limits and bad cursors are clear errors.
    let (_, body) = shop.post(PAGE, json!({ "first": 101 }), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let (_, body) = shop
        .post(PAGE, json!({ "first": 5, "after": "not-a-cursor" }), None)
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn search_is_typo_tolerant_and_counts_facets() {
    let shop = TestShop::start(300).await;
    let exact = shop.search("boots", json!({ "first": 50 })).await;
    let total = exact["totalCount"].as_i64().unwrap();
    assert!(total > 0, "{exact}");
    // A typo and an unfinished word find the same products.
    let exact_pair = shop.search("leather boots", json!({ "first": 50 })).await;
    assert!(
        exact_pair["totalCount"].as_i64().unwrap() > 0,
        "{exact_pair}"
    );
    let typo_pair = shop.search("lether boots", json!({ "first": 50 })).await;
    assert_eq!(typo_pair["totalCount"], exact_pair["totalCount"]);
    // One typo in a 6-letter word still finds every product named "... Boots".
    let named_boots = exact["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["name"].as_str().unwrap().ends_with("Boots"))
        .count();
    let typo = shop.search("bootss", json!({ "first": 50 })).await;
    assert_eq!(
        typo["totalCount"].as_u64().unwrap() as usize,
        named_boots,
        "{typo}"
    );
    let prefix = shop.search("boo", json!({ "first": 50 })).await;
    assert!(prefix["totalCount"].as_i64().unwrap() >= total);

    // Facet counts add up to the total and filtering by a facet gives its count.
    let all = shop.search("", json!({ "first": 5 })).await;
    let all_total = all["totalCount"].as_i64().unwrap();
    let brand_sum: i64 = all["facets"]["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    let price_sum: i64 = all["facets"]["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!((brand_sum, price_sum), (all_total, all_total));
    let top_brand = &all["facets"]["brands"][0];
    let by_brand = shop
        .search(
            "",
            json!({ "filter": { "brandIds": [top_brand["brand"]["id"]] }, "first": 100 }),
        )
        .await;
    assert_eq!(by_brand["totalCount"], top_brand["count"]);
    assert!(by_brand["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["brand"]["id"] == top_brand["brand"]["id"]));

    // Category filters include subcategories; price filters are inclusive.
    let roots = shop
        .data("{ categories { id children { id } } }", json!({}), None)
        .await;
    let root = &roots["categories"][0];
    let in_root = shop
        .search(
            "",
            json!({ "filter": { "categoryId": root["id"] }, "first": 1 }),
        )
        .await;
    let children_sum: i64 = {
        let mut sum = 0;
        for child in root["children"].as_array().unwrap() {
            sum += shop
                .search(
                    "",
                    json!({ "filter": { "categoryId": child["id"] }, "first": 1 }),
                )
                .await["totalCount"]
                .as_i64()
                .unwrap();
        }
        sum
    };
    assert_eq!(in_root["totalCount"].as_i64().unwrap(), children_sum);
    let cheap = shop
        .search(
            "",
            json!({ "filter": { "maxPrice": "25.00" }, "sort": "PRICE_DESC", "first": 100 }),
        )
        .await;
    for edge in cheap["edges"].as_array().unwrap() {
        assert!(
            edge["node"]["price"]["amount"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                <= 25.0
        );
    }

    // Paging through search results.
    let page1 = shop
        .search("", json!({ "first": 10, "sort": "NEWEST" }))
        .await;
    let page2 = shop
        .search(
            "",
            json!({ "first": 10, "sort": "NEWEST", "after": page1["pageInfo"]["endCursor"] }),
        )
        .await;
    let overlap: HashSet<String> = ids(&page1)
        .into_iter()
        .filter(|id| ids(&page2).contains(id))
        .collect();
    assert!(overlap.is_empty());
}

#[tokio::test]
async fn query_syntax_and_sql_in_search_are_just_words() {
    let shop = TestShop::start(50).await;
    for query in [
        "'; DROP TABLE products; --",
        "name:(boots OR",
        "\"unbalanced",
        "*",
        "boots AND NOT ~2^3",
        "%_%",
        "\u{1f600}\u{7}",
    ] {
        let result = shop.search(query, json!({})).await;
        assert!(result["totalCount"].as_i64().is_some(), "{query}: {result}");
    }
    // A NUL character is refused in any input, a query's as a mutation's (it cannot be stored).
    let (status, body) = shop
        .post(
            "query($q: String!) { searchProducts(query: $q) { totalCount } }",
            json!({ "q": "\u{0}\u{1f600}" }),
            None,
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (200, "BAD_USER_INPUT"),
        "{body}"
    );
    let (status, body) = shop
        .post(
            "{ searchProducts(query: \"x\", first: 500) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!((status, error_code(&body)), (200, "BAD_USER_INPUT"));
    // The products table is intact.
    let data = shop
        .data("{ products(first: 1) { totalCount } }", json!({}), None)
        .await;
    assert!(data["products"]["totalCount"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn an_admin_creates_a_product_and_search_finds_it_seconds_later() {
    let shop = TestShop::start(30).await;
    let admin = shop.admin_token().await;
    let (category, brand) = shop.some_category_and_brand().await;
    let (_, body) = indexed_after(&shop, shop
        .create_product(&admin, json!({
            "sku": "zz-quokka-1", "name": "Quokka Trail Lantern", "description": "A lantern for night walks.",
            "categoryId": category, "brandId": brand, "status": "ACTIVE",
            "price": { "amount": "42.50", "currencyCode": "USD" },
            "attributes": [{ "name": "color", "value": "rust" }],
            "media": [{ "url": "https://images.example.com/quokka.jpg", "alt": "Lantern" }],
            "weightGrams": 640
        })))
        .await;
    let product = &body["data"]["createProduct"]["product"];
    assert_eq!(
        body["data"]["createProduct"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(product["sku"], "ZZ-QUOKKA-1");
    assert_eq!(product["slug"], "quokka-trail-lantern-zz-quokka-1");
    assert_eq!(
        product["price"],
        json!({ "amount": "42.50", "currencyCode": "USD" })
    );

    let found = shop.search("quoka lantern", json!({})).await;
    assert_eq!(found["edges"][0]["node"]["sku"], "ZZ-QUOKKA-1", "{found}");
    let by_slug = shop.data("{ product(slug: \"quokka-trail-lantern-zz-quokka-1\") { name attributes { name value } weightGrams } }", json!({}), None).await;
    assert_eq!(by_slug["product"]["weightGrams"], 640);

    // A price change is searchable by price; archiving removes it from search and listings.
    let id = product["id"].clone();
    let updated = indexed_after(&shop, shop
        .data("mutation($id: ID!) { updateProduct(input: { id: $id, price: { amount: \"9.99\", currencyCode: USD } }) { product { price { amount } } userErrors { code } } }", json!({ "id": id }), Some(&admin)))
        .await;
    assert_eq!(
        updated["updateProduct"]["product"]["price"]["amount"],
        "9.99"
    );
    let cheap = shop.search("quokka", json!({})).await;
    assert_eq!(cheap["edges"][0]["node"]["price"]["amount"], "9.99");
    indexed_after(
        &shop,
        shop.data(
            "mutation($id: ID!) { archiveProduct(input: { id: $id }) { product { status } } }",
            json!({ "id": id }),
            Some(&admin),
        ),
    )
    .await;
    let gone = shop.search("quokka", json!({})).await;
    assert_eq!(gone["totalCount"], 0);
    let hidden = shop
        .data(
            "query($id: ID!) { product(id: $id) { id } }",
            json!({ "id": id }),
            None,
        )
        .await;
    assert!(hidden["product"].is_null());
    let seen_by_admin = shop
        .data(
            "query($id: ID!) { product(id: $id) { status } }",
            json!({ "id": id }),
            Some(&admin),
        )
        .await;
    assert_eq!(seen_by_admin["product"]["status"], "ARCHIVED");
}

#[tokio::test]
async fn invalid_products_get_user_errors_and_nothing_is_stored() {
    let shop = TestShop::start(10).await;
    let admin = shop.admin_token().await;
    let (category, _) = shop.some_category_and_brand().await;
    let count = || async {
        shop.data(
            "{ products(first: 1, filter: { status: DRAFT }) { totalCount } }",
            json!({}),
            Some(&admin),
        )
        .await["products"]["totalCount"]
            .clone()
    };
    let before = count().await;
    let base = json!({ "sku": "BAD-1", "name": "Bad", "categoryId": category, "price": { "amount": "1.00", "currencyCode": "USD" } });
    let cases = [
        (
            json!({ "price": { "amount": "-5.00", "currencyCode": "USD" } }),
            "INVALID_PRICE",
            "price",
        ),
        (
            json!({ "price": { "amount": "1.999", "currencyCode": "USD" } }),
            "INVALID_PRICE",
            "price",
        ),
        (
            json!({ "categoryId": "cat_01J00000000000000000000000" }),
            "UNKNOWN_CATEGORY",
            "categoryId",
        ),
        (
            json!({ "brandId": "brand_nope" }),
            "UNKNOWN_BRAND",
            "brandId",
        ),
        (json!({ "sku": "a b" }), "INVALID_INPUT", "sku"),
        (json!({ "name": "  " }), "INVALID_INPUT", "name"),
        (
            json!({ "media": [{ "url": "javascript:alert(1)" }] }),
            "INVALID_INPUT",
            "media",
        ),
    ];
    for (change, code, field) in cases {
        let mut input = base.clone();
        input
            .as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        let (_, body) = shop.create_product(&admin, input).await;
        let payload = &body["data"]["createProduct"];
        assert!(payload["product"].is_null(), "{body}");
        assert_eq!(payload["userErrors"][0]["code"], code, "{body}");
        assert_eq!(
            payload["userErrors"][0]["field"],
            json!(["input", field]),
            "{body}"
        );
    }
    assert_eq!(count().await, before);

    // Duplicate SKUs are refused; wrong GraphQL types are validation errors.
    let (_, first) = shop.create_product(&admin, base.clone()).await;
    assert!(
        first["data"]["createProduct"]["product"]["id"].is_string(),
        "{first}"
    );
    let (_, again) = shop.create_product(&admin, base).await;
    assert_eq!(
        again["data"]["createProduct"]["userErrors"][0]["code"],
        "SKU_TAKEN"
    );
    let (status, body) = shop.create_product(&admin, json!({ "sku": 5 })).await;
    assert_eq!(
        (status, error_code(&body)),
        (200, "BAD_USER_INPUT"),
        "{body}"
    );
}

#[tokio::test]
async fn drafts_are_visible_to_admins_only() {
    let shop = TestShop::start(10).await;
    let admin = shop.admin_token().await;
    let (category, _) = shop.some_category_and_brand().await;
    let (_, body) = shop
        .create_product(&admin, json!({ "sku": "DRAFT-1", "name": "Secret Prototype", "categoryId": category, "price": { "amount": "5", "currencyCode": "USD" } }))
        .await;
    let product = &body["data"]["createProduct"]["product"];
    assert_eq!(product["status"], "DRAFT");
    assert_eq!(product["price"]["amount"], "5.00");
    let query = "query($id: ID!) { product(id: $id) { name } }";
    let anonymous = shop.data(query, json!({ "id": product["id"] }), None).await;
    assert!(anonymous["product"].is_null());
    let customer = shop.customer_token().await;
    let (status, body) = shop
        .post(
            PAGE,
            json!({ "first": 1, "filter": { "status": "DRAFT" } }),
            Some(&customer),
        )
        .await;
    assert_eq!((status, error_code(&body)), (200, "FORBIDDEN"));
    let as_admin = shop
        .data(query, json!({ "id": product["id"] }), Some(&admin))
        .await;
    assert_eq!(as_admin["product"]["name"], "Secret Prototype");
}
