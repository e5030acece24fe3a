//! Collections through the catalog's API: the demo's on the home page, an admin's hand-picked
//! one in its order and a rule-based one that new products join as they are indexed, drafts
//! hidden from shoppers, and every mistake a userError that changes nothing.

use std::time::Duration;

use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

const CREATE: &str = "mutation($input: CollectionInputFields!) { createCollection(input: $input) {
    collection { id slug title sort handPicked published products(first: 10) { totalCount edges { node { sku price { amount } } } } }
    userErrors { field code message } } }";

async fn create(app: &TestApp<Catalog>, admin: &str, input: Value) -> Value {
    app.data(CREATE, json!({ "input": input }), Some(admin))
        .await["createCollection"]
        .clone()
}

fn skus(collection: &Value) -> Vec<String> {
    collection["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["sku"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn admins_make_hand_picked_and_rule_based_collections_for_the_storefront() {
    let app = catalog::spawn_with_demo(30).await;
    let admin = app.tokens.admin("usr_admin");

    // The demo's collections, in order, each with products.
    let home = app
        .data(
            "{ collections { slug products(first: 4) { totalCount edges { node { id } } } } }",
            json!({}),
            None,
        )
        .await;
    let slugs: Vec<&str> = home["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["new-arrivals", "under-25", "staff-picks"]);
    assert!(home["collections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["products"]["totalCount"].as_i64().unwrap() > 0));

    // Hand-picked by product or variant SKU, in the admin's order.
    let listed = app
        .data(
            "{ products(first: 3, sort: PRICE_ASC) { edges { node { sku } } } }",
            json!({}),
            None,
        )
        .await;
    let cheapest: Vec<String> = listed["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["sku"].as_str().unwrap().to_string())
        .collect();
    let picked = create(
        &app,
        &admin,
        json!({ "title": "Gift ideas", "published": true,
            "productSkus": [cheapest[2], "tee-000001-m-navy", cheapest[0]] }),
    )
    .await;
    assert_eq!(picked["userErrors"], json!([]), "{picked:#}");
    assert_eq!(picked["collection"]["slug"], "gift-ideas");
    assert_eq!(picked["collection"]["sort"], "MANUAL");
    assert_eq!(
        skus(&picked["collection"]),
        [
            cheapest[2].clone(),
            "TEE-000001".into(),
            cheapest[0].clone()
        ]
    );

    // A rule: products up to 15.00, cheapest first; a new one joins once indexed.
    let rule = create(
        &app,
        &admin,
        json!({ "title": "Pocket money", "slug": "pocket-money", "published": false, "sort": "PRICE_ASC",
            "filter": { "maxPrice": { "amount": "15.00", "currencyCode": "USD" } } }),
    )
    .await;
    assert_eq!(rule["userErrors"], json!([]), "{rule:#}");
    let before = rule["collection"]["products"]["totalCount"]
        .as_i64()
        .unwrap();
    let prices: Vec<f64> = rule["collection"]["products"]["edges"]
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
    assert!(prices.windows(2).all(|w| w[0] <= w[1]) && prices.iter().all(|p| *p <= 15.0));
    let mut indexed = app.subgraph.service.indexer.indexed();
    let seen = *indexed.borrow_and_update();
    let category = app
        .data("{ categories { children { id } } }", json!({}), None)
        .await["categories"][0]["children"][0]["id"]
        .clone();
    app.data(
        "mutation($c: ID!) { createProduct(input: { sku: \"PENNY-1\", name: \"Penny whistle\", categoryId: $c,
            status: ACTIVE, price: { amount: \"0.99\", currencyCode: USD } }) { userErrors { message } } }",
        json!({ "c": category }),
        Some(&admin),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(10), indexed.wait_for(|n| *n > seen))
        .await
        .unwrap()
        .unwrap();
    let query = "query($slug: String!) { collection(slug: $slug) { products(first: 1) { totalCount edges { node { sku } } } } }";
    let after = app
        .data(query, json!({ "slug": "pocket-money" }), Some(&admin))
        .await;
    assert_eq!(
        after["collection"]["products"]["totalCount"]
            .as_i64()
            .unwrap(),
        before + 1
    );
    assert_eq!(skus(&after["collection"]), ["PENNY-1"]);
    // A draft is the admins' only.
    let shopper = app
        .data(query, json!({ "slug": "pocket-money" }), None)
        .await;
    assert_eq!(shopper["collection"], Value::Null);

    // Mistakes change nothing.
    let mistakes = [
        (json!({ "title": "Nothing" }), "filter"),
        (
            json!({ "title": "Both", "productSkus": ["TEE-000001"], "filter": {} }),
            "filter",
        ),
        (
            json!({ "title": "Ghost", "productSkus": ["NO-SUCH-SKU"] }),
            "productSkus",
        ),
        (
            json!({ "title": "Twice", "productSkus": ["TEE-000001", "tee-000001"] }),
            "productSkus",
        ),
        (
            json!({ "title": "Gift ideas", "productSkus": ["TEE-000001"] }),
            "slug",
        ),
        (
            json!({ "title": "Unordered", "filter": {}, "sort": "MANUAL" }),
            "sort",
        ),
        (
            json!({ "title": "Backwards", "filter": { "minPrice": { "amount": "50.00", "currencyCode": "USD" },
                "maxPrice": { "amount": "5.00", "currencyCode": "USD" } } }),
            "filter",
        ),
        (
            json!({ "title": "Nowhere", "filter": { "categoryId": "cat_missing" } }),
            "categoryId",
        ),
        (
            json!({ "title": " ", "productSkus": ["TEE-000001"] }),
            "title",
        ),
    ];
    let count = || async {
        app.data(
            "{ collections(first: 100) { id } }",
            json!({}),
            Some(&admin),
        )
        .await["collections"]
            .as_array()
            .unwrap()
            .len()
    };
    let collections = count().await;
    for (input, field) in mistakes {
        let refused = create(&app, &admin, input.clone()).await;
        assert_eq!(refused["collection"], Value::Null, "{input}");
        assert_eq!(
            refused["userErrors"][0]["field"][1], field,
            "{input}: {refused:#}"
        );
    }
    assert_eq!(count().await, collections);

    let deleted = app
        .data(
            "mutation($id: ID!) { deleteCollection(input: { id: $id }) { deletedId userErrors { code } } }",
            json!({ "id": picked["collection"]["id"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        deleted["deleteCollection"]["deletedId"],
        picked["collection"]["id"]
    );
    assert_eq!(count().await, collections - 1);
}

#[tokio::test]
async fn a_deleted_collection_stays_deleted_whatever_edit_comes_after_or_beside() {
    let app = catalog::spawn_with_demo(4).await;
    let admin = app.tokens.admin("usr_admin");
    const UPDATE: &str = "mutation($id: ID!, $c: CollectionInputFields!) {
        updateCollection(input: { id: $id, collection: $c }) {
            collection { id } userErrors { field code } } }";
    const DELETE: &str =
        "mutation($id: ID!) { deleteCollection(input: { id: $id }) { deletedId userErrors { code } } }";
    let exists = |id: String| {
        let app = &app;
        let admin = &admin;
        async move {
            app.data(
                "query($id: ID!) { collection(id: $id) { id } }",
                json!({ "id": id }),
                Some(admin),
            )
            .await["collection"]
                .is_object()
        }
    };
    let sku = app
        .data(
            "{ products(first: 1) { edges { node { sku } } } }",
            json!({}),
            Some(&admin),
        )
        .await["products"]["edges"][0]["node"]["sku"]
        .clone();
    for round in 0..10 {
        let input = json!({ "title": format!("Gone {round}"), "productSkus": [sku] });
        let made = create(&app, &admin, input.clone()).await;
        let id = made["collection"]["id"].as_str().unwrap().to_string();
        let renamed = json!({ "title": format!("Renamed {round}"), "productSkus": [sku] });
        if round == 0 {
            // One after the other: the edit finds nothing to change.
            app.data(DELETE, json!({ "id": id }), Some(&admin)).await;
            let edited = app
                .data(UPDATE, json!({ "id": id, "c": renamed }), Some(&admin))
                .await;
            assert_eq!(
                edited["updateCollection"]["userErrors"][0]["code"], "NOT_FOUND",
                "{edited:#}"
            );
        } else {
            // At once: whichever comes first, the delete wins.
            let (deleted, _) = tokio::join!(
                app.data(DELETE, json!({ "id": id }), Some(&admin)),
                app.data(UPDATE, json!({ "id": id, "c": renamed }), Some(&admin)),
            );
            assert_eq!(deleted["deleteCollection"]["deletedId"], id.as_str());
        }
        assert!(
            !exists(id.clone()).await,
            "round {round}: the collection came back"
        );
    }
}
