//! Options and variants through the catalog's API: an admin builds a T-shirt in Size x Colour,
//! every bad input is a userError that changes nothing, and concurrent admins cannot make the
//! same combination twice.

use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

struct Shop {
    app: TestApp<Catalog>,
    admin: String,
}

impl Shop {
    async fn start() -> Self {
        let app = catalog::spawn_with_demo(2).await;
        let admin = app.tokens.admin("usr_admin");
        Self { app, admin }
    }

    async fn admin(&self, query: &str, variables: Value) -> Value {
        self.app.data(query, variables, Some(&self.admin)).await
    }

    /// A new active product "Tee <sku>" priced 20.00.
    async fn product(&self, sku: &str) -> String {
        let category = self
            .app
            .data("{ categories { id } }", json!({}), None)
            .await["categories"][0]["id"]
            .clone();
        let made = self
            .admin(
                "mutation($sku: String!, $c: ID!) { createProduct(input: { sku: $sku, name: $sku,
                    categoryId: $c, status: ACTIVE, price: { amount: \"20.00\", currencyCode: USD } }) {
                    product { id } userErrors { message } } }",
                json!({ "sku": sku, "c": category }),
            )
            .await;
        made["createProduct"]["product"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{made}"))
            .to_string()
    }

    async fn set_options(&self, product: &str, options: Value) -> Value {
        self.admin(
            "mutation($p: ID!, $o: [ProductOptionInput!]!) { setProductOptions(input: {
                productId: $p, options: $o }) { product { options { name values } }
                userErrors { field code message } } }",
            json!({ "p": product, "o": options }),
        )
        .await["setProductOptions"]
            .clone()
    }

    async fn create(&self, product: &str, variants: Value) -> Value {
        self.admin(
            "mutation($p: ID!, $v: [ProductVariantInput!]!) { createProductVariants(input: {
                productId: $p, variants: $v }) { variants { id sku title: optionValues { value }
                price { amount } compareAtPrice { amount } }
                userErrors { field code message } } }",
            json!({ "p": product, "v": variants }),
        )
        .await["createProductVariants"]
            .clone()
    }

    async fn variants(&self, product: &str) -> Vec<Value> {
        self.app
            .data(
                "query($id: ID!) { product(id: $id) { variants { id sku status
                    optionValues { name value } price { amount } } } }",
                json!({ "id": product }),
                None,
            )
            .await["product"]["variants"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn variant(sku: &str, size: &str, colour: &str, amount: &str) -> Value {
    json!({ "sku": sku, "optionValues": [{ "name": "Size", "value": size },
        { "name": "Colour", "value": colour }], "price": { "amount": amount, "currencyCode": "USD" } })
}

fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_admin_makes_a_t_shirt_in_three_sizes_and_two_colours() {
    let shop = Shop::start().await;
    let tee = shop.product("TEE-1").await;
    let options = json!([{ "name": "Size", "values": ["S", "M", "L"] },
        { "name": "Colour", "values": ["Red", "Blue"] }]);
    assert_eq!(
        shop.set_options(&tee, options.clone()).await,
        json!({ "product": { "options": options }, "userErrors": [] })
    );
    let mut six = Vec::new();
    for (i, size) in ["S", "M", "L"].iter().enumerate() {
        for colour in ["Red", "Blue"] {
            // Values match case-insensitively and are stored as the options spell them.
            let amount = format!("{}.00", 20 + i);
            six.push(variant(
                &format!("tee-{size}-{colour}"),
                &size.to_lowercase(),
                &colour.to_uppercase(),
                &amount,
            ));
        }
    }
    let made = shop.create(&tee, json!(six)).await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    assert_eq!(made["variants"].as_array().unwrap().len(), 6);
    assert_eq!(made["variants"][3]["sku"], "TEE-M-BLUE");
    assert_eq!(
        made["variants"][3]["title"],
        json!([{ "value": "M" }, { "value": "Blue" }])
    );

    // The storefront sees the six, in order, not the archived default variant.
    let variants = shop.variants(&tee).await;
    let skus: Vec<&str> = variants
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus,
        [
            "TEE-S-RED",
            "TEE-S-BLUE",
            "TEE-M-RED",
            "TEE-M-BLUE",
            "TEE-L-RED",
            "TEE-L-BLUE"
        ]
    );
    let product = shop
        .app
        .data(
            "query($id: ID!) { product(id: $id) { priceRange { min { amount } max { amount } } } }",
            json!({ "id": tee }),
            None,
        )
        .await;
    assert_eq!(
        product["product"]["priceRange"],
        json!({ "min": { "amount": "20.00" }, "max": { "amount": "22.00" } })
    );

    // A variant's SKU (any case) and the product's own find the product.
    for sku in ["tee-m-blue", "TEE-1"] {
        let found = shop
            .app
            .data(
                "query($sku: String!) { product(sku: $sku) { id } }",
                json!({ "sku": sku }),
                None,
            )
            .await;
        assert_eq!(found["product"]["id"], json!(tee), "{sku}");
    }

    // A "was" price, then a reorder and an archive.
    let m_blue = variants[3]["id"].clone();
    let updated = shop
        .admin(
            "mutation($id: ID!) { updateProductVariant(input: { id: $id,
                compareAtPrice: { amount: \"30.00\", currencyCode: USD } }) {
                variant { compareAtPrice { amount } price { amount } } userErrors { code } } }",
            json!({ "id": m_blue }),
        )
        .await;
    assert_eq!(
        updated["updateProductVariant"],
        json!({ "variant": { "compareAtPrice": { "amount": "30.00" }, "price": { "amount": "21.00" } },
            "userErrors": [] })
    );
    let mut reversed: Vec<Value> = variants.iter().map(|v| v["id"].clone()).collect();
    reversed.reverse();
    let reordered = shop
        .admin(
            "mutation($p: ID!, $ids: [ID!]!) { reorderProductVariants(input: { productId: $p,
                variantIds: $ids }) { product { variants { sku } } userErrors { code } } }",
            json!({ "p": tee, "ids": reversed }),
        )
        .await;
    assert_eq!(
        reordered["reorderProductVariants"]["product"]["variants"][0]["sku"],
        "TEE-L-BLUE"
    );
    let archived = shop
        .admin(
            "mutation($id: ID!) { archiveProductVariant(input: { id: $id }) {
                variant { status } userErrors { code } } }",
            json!({ "id": m_blue }),
        )
        .await;
    assert_eq!(
        archived["archiveProductVariant"]["variant"]["status"],
        "ARCHIVED"
    );
    assert_eq!(shop.variants(&tee).await.len(), 5);
    // Its combination is free again.
    let again = shop
        .create(&tee, json!([variant("TEE-M-BLUE-2", "M", "Blue", "21.00")]))
        .await;
    assert_eq!(again["userErrors"], json!([]), "{again}");
}

#[tokio::test]
async fn bad_options_and_variants_are_user_errors_that_change_nothing() {
    let shop = Shop::start().await;
    let tee = shop.product("TEE-2").await;
    // Variants need options first.
    let made = shop
        .create(&tee, json!([variant("TEE2-S-RED", "S", "Red", "20.00")]))
        .await;
    assert_eq!(codes(&made), ["INVALID_OPTION_VALUES"]);
    for bad in [
        json!([{ "name": "Size", "values": ["S", "s"] }]),
        json!([{ "name": "Size", "values": [] }]),
        json!([{ "name": "Size", "values": ["S"] }, { "name": "size", "values": ["M"] }]),
        json!([{ "name": "", "values": ["S"] }]),
    ] {
        let set = shop.set_options(&tee, bad.clone()).await;
        assert_eq!(codes(&set), ["INVALID_INPUT"], "{bad}: {set}");
    }
    shop.set_options(
        &tee,
        json!([{ "name": "Size", "values": ["S", "M"] }, { "name": "Colour", "values": ["Red"] }]),
    )
    .await;
    let first = shop
        .create(&tee, json!([variant("TEE2-S-RED", "S", "Red", "20.00")]))
        .await;
    assert_eq!(first["userErrors"], json!([]));

    let cases = [
        // The same combination as an existing variant, or twice in one call.
        (
            json!([variant("TEE2-OTHER", "S", "Red", "20.00")]),
            "DUPLICATE_OPTION_VALUES",
        ),
        (
            json!([
                variant("TEE2-A", "M", "Red", "20.00"),
                variant("TEE2-B", "M", "Red", "20.00")
            ]),
            "DUPLICATE_OPTION_VALUES",
        ),
        // A SKU another variant (or product) has, or twice in one call.
        (
            json!([variant("TEE2-S-RED", "M", "Red", "20.00")]),
            "SKU_TAKEN",
        ),
        (json!([variant("TEE-2", "M", "Red", "20.00")]), "SKU_TAKEN"),
        (
            json!([variant("TEE2-X", "XL", "Red", "20.00")]),
            "INVALID_OPTION_VALUES",
        ),
        (
            json!([{ "sku": "TEE2-X", "optionValues": [{ "name": "Size", "value": "M" }],
                "price": { "amount": "20.00", "currencyCode": "USD" } }]),
            "INVALID_OPTION_VALUES",
        ),
        (
            json!([variant("TEE2-X", "M", "Red", "-1.00")]),
            "INVALID_PRICE",
        ),
        (
            json!([variant("TEE2-X", "M", "Red", "twelve")]),
            "INVALID_PRICE",
        ),
        (
            json!([variant("TEE2-X", "M", "Red", "20.00")
                .as_object()
                .unwrap()
                .clone()
                .into_iter()
                .chain([(
                    "compareAtPrice".to_string(),
                    json!({ "amount": "19.00", "currencyCode": "USD" })
                )])
                .collect::<serde_json::Map<_, _>>()]),
            "INVALID_PRICE",
        ),
        (json!([]), "INVALID_INPUT"),
    ];
    for (variants, code) in cases {
        let made = shop.create(&tee, variants.clone()).await;
        assert_eq!(codes(&made), [code], "{variants}: {made}");
    }
    assert_eq!(shop.variants(&tee).await.len(), 1, "nothing half-made");

    // A sold value cannot go, and no option can be added while variants use the others.
    let removed = shop
        .set_options(
            &tee,
            json!([{ "name": "Size", "values": ["M"] }, { "name": "Colour", "values": ["Red"] }]),
        )
        .await;
    assert_eq!(codes(&removed), ["OPTIONS_IN_USE"], "{removed}");
    let added = shop
        .set_options(
            &tee,
            json!([{ "name": "Size", "values": ["S", "M"] }, { "name": "Colour", "values": ["Red"] },
                { "name": "Fit", "values": ["Slim"] }]),
        )
        .await;
    assert_eq!(codes(&added), ["OPTIONS_IN_USE"], "{added}");
    let bad_order = shop
        .admin(
            "mutation($p: ID!) { reorderProductVariants(input: { productId: $p, variantIds: [\"var_x\"] }) {
                userErrors { code } } }",
            json!({ "p": tee }),
        )
        .await;
    assert_eq!(
        bad_order["reorderProductVariants"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    // Customers cannot change variants.
    let refused = shop
        .app
        .graphql(
            "mutation($p: ID!) { setProductOptions(input: { productId: $p, options: [] }) { userErrors { code } } }",
            json!({ "p": tee }),
            Some(&shop.app.tokens.customer("usr_c")),
        )
        .await;
    assert_eq!(kit::testing::error_code(&refused), "FORBIDDEN");
}

#[tokio::test]
async fn concurrent_admins_cannot_make_one_combination_twice() {
    let shop = std::sync::Arc::new(Shop::start().await);
    let tee = shop.product("TEE-3").await;
    shop.set_options(&tee, json!([{ "name": "Size", "values": ["S", "M"] }]))
        .await;
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let (shop, tee) = (shop.clone(), tee.clone());
            tokio::spawn(async move {
                shop.create(
                    &tee,
                    json!([{ "sku": format!("TEE3-S-{i}"), "optionValues": [{ "name": "Size", "value": "S" }],
                        "price": { "amount": "20.00", "currencyCode": "USD" } }]),
                )
                .await
            })
        })
        .collect();
    let mut made = 0;
    for attempt in attempts {
        let payload = attempt.await.unwrap();
        if payload["userErrors"] == json!([]) {
            made += 1;
        } else {
            assert_eq!(codes(&payload), ["DUPLICATE_OPTION_VALUES"], "{payload}");
        }
    }
    assert_eq!(made, 1);
    assert_eq!(shop.variants(&tee).await.len(), 1);
}
