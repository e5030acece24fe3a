//! Variants through the router: an admin makes a T-shirt in Size x Colour and restocks two of
//! its six variants; the product page shows each variant's price and stock; a customer buys
//! "M / Blue", and the order line, the shipment and that variant's stock (only that one's)
//! show it; search counts the colours.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::TestShop;
use crate::purchase::{address, checkout};

const PRODUCT_PAGE: &str = "query($id: ID!) { product(id: $id) {
    name options { name values } priceRange { min { amount } max { amount } }
    availability { availableQuantity }
    variants { id sku optionValues { name value } price { amount }
        availability { inStock availableQuantity } } } }";

/// An admin's T-shirt in S/M/L x Red/Blue, priced 20.00 (S), 22.00 (M), 24.00 (L); its id and
/// its variants by title ("M / Blue").
pub(crate) async fn t_shirt(shop: &TestShop, admin: &str) -> (String, Vec<(String, String)>) {
    let (category, _) = shop.some_category_and_brand().await;
    let (_, made) = shop
        .create_product(
            admin,
            json!({ "sku": "TEE-V", "name": "Variant Tee", "categoryId": category,
                "status": "ACTIVE", "price": { "amount": "20.00", "currencyCode": "USD" } }),
        )
        .await;
    let product = made["data"]["createProduct"]["product"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_string();
    let options = shop
        .data(
            "mutation($p: ID!) { setProductOptions(input: { productId: $p, options: [
                { name: \"Size\", values: [\"S\", \"M\", \"L\"] },
                { name: \"Colour\", values: [\"Red\", \"Blue\"] }] }) { userErrors { message } } }",
            json!({ "p": product }),
            Some(admin),
        )
        .await;
    assert_eq!(options["setProductOptions"]["userErrors"], json!([]));
    let mut variants = Vec::new();
    for (size, amount) in [("S", "20.00"), ("M", "22.00"), ("L", "24.00")] {
        for colour in ["Red", "Blue"] {
            variants.push(json!({ "sku": format!("TEE-V-{size}-{colour}"),
                "optionValues": [{ "name": "Size", "value": size }, { "name": "Colour", "value": colour }],
                "price": { "amount": amount, "currencyCode": "USD" } }));
        }
    }
    let made = shop
        .data(
            "mutation($p: ID!, $v: [ProductVariantInput!]!) { createProductVariants(input: {
                productId: $p, variants: $v }) { variants { id optionValues { value } }
                userErrors { message } } }",
            json!({ "p": product, "v": variants }),
            Some(admin),
        )
        .await;
    assert_eq!(
        made["createProductVariants"]["userErrors"],
        json!([]),
        "{made}"
    );
    let variants = made["createProductVariants"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let title: Vec<&str> = v["optionValues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["value"].as_str().unwrap())
                .collect();
            (title.join(" / "), v["id"].as_str().unwrap().to_string())
        })
        .collect();
    (product, variants)
}

pub(crate) fn variant<'a>(variants: &'a [(String, String)], title: &str) -> &'a str {
    &variants.iter().find(|(t, _)| t == title).unwrap().1
}

pub(crate) async fn restock(
    shop: &TestShop,
    admin: &str,
    warehouse: &str,
    variant: &str,
    units: i64,
) {
    let data = shop
        .data(
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
            json!({ "input": { "variantId": variant, "warehouseId": warehouse, "kind": "RESTOCK",
                "quantity": units, "reason": "test", "idempotencyKey": format!("restock-{variant}") } }),
            Some(admin),
        )
        .await;
    assert_eq!(data["adjustStock"]["userErrors"], json!([]), "{data}");
}

/// Adds `quantity` of `variant` to the customer's cart; returns the cart's id.
pub(crate) async fn fill_cart_with(
    shop: &TestShop,
    token: &str,
    variant: &str,
    quantity: i64,
) -> String {
    crate::purchase::add_line(
        shop,
        token,
        json!({ "variantId": variant, "quantity": quantity }),
    )
    .await
}

pub(crate) fn available_of(page: &Value, variant: &str) -> i64 {
    page["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == variant)
        .unwrap()["availability"]["availableQuantity"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_customer_buys_one_variant_of_a_t_shirt_and_only_its_stock_moves() {
    let shop = TestShop::start_with(5, |options| {
        options.set("SHIPPING_AUTO_FULFIL", "true");
    })
    .await;
    let admin = shop.admin_token().await;
    let catalog = shop.shop.subgraph::<catalog::Catalog>();
    let mut indexed = catalog.service.indexer.indexed();
    let (tee, variants) = t_shirt(&shop, &admin).await;
    let (m_blue, l_red) = (
        variant(&variants, "M / Blue"),
        variant(&variants, "L / Red"),
    );
    let warehouse = shop
        .data("{ warehouses { id } }", json!({}), Some(&admin))
        .await["warehouses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    restock(&shop, &admin, &warehouse, m_blue, 5).await;
    restock(&shop, &admin, &warehouse, l_red, 3).await;

    // The product page: six variants, their own prices and stock.
    let page = shop.data(PRODUCT_PAGE, json!({ "id": tee }), None).await["product"].clone();
    assert_eq!(page["variants"].as_array().unwrap().len(), 6, "{page:#}");
    assert_eq!(
        page["priceRange"],
        json!({ "min": { "amount": "20.00" }, "max": { "amount": "24.00" } })
    );
    let prices: Vec<&str> = page["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["price"]["amount"].as_str().unwrap())
        .collect();
    assert_eq!(
        prices,
        ["20.00", "20.00", "22.00", "22.00", "24.00", "24.00"]
    );
    assert_eq!(available_of(&page, m_blue), 5);
    assert_eq!(available_of(&page, l_red), 3);
    assert_eq!(available_of(&page, variant(&variants, "S / Red")), 0);
    assert_eq!(page["availability"]["availableQuantity"], 8);

    // A customer adds "M / Blue"; the product alone does not say which.
    let customer = shop.customer_token().await;
    let add = "mutation($input: CartLineInput!) { addCartLine(input: $input) {
        cart { id lines { quantity variant { id sku optionValues { value } } product { name }
            unitPrice { amount } } } userErrors { code } } }";
    let vague = shop
        .data(
            add,
            json!({ "input": { "productId": tee, "quantity": 1 } }),
            Some(&customer),
        )
        .await;
    assert_eq!(
        vague["addCartLine"]["userErrors"][0]["code"],
        "VARIANT_REQUIRED"
    );
    let added = shop
        .data(
            add,
            json!({ "input": { "variantId": m_blue, "quantity": 2 } }),
            Some(&customer),
        )
        .await;
    let cart = &added["addCartLine"]["cart"];
    assert_eq!(
        cart["lines"],
        json!([{ "quantity": 2, "variant": { "id": m_blue, "sku": "TEE-V-M-BLUE",
            "optionValues": [{ "value": "M" }, { "value": "Blue" }] },
            "product": { "name": "Variant Tee" }, "unitPrice": { "amount": "22.00" } }])
    );
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart["id"], "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "variant-tee" }),
    )
    .await;
    let status = placed["order"]["status"].as_str().unwrap();
    assert!(matches!(status, "PAID" | "FULFILLED"), "{placed:#}");
    let order_id = placed["order"]["id"].as_str().unwrap().to_string();

    // The order line names the variant; the shipment carries it.
    let order_query = "query($id: ID!) { order(id: $id) { status
        lines { sku name variantTitle quantity variant { id } product { id } }
        shipments { lines { quantity variant { id sku } product { id } } } } }";
    let shipped = async {
        loop {
            let order = shop
                .data(order_query, json!({ "id": order_id }), Some(&customer))
                .await["order"]
                .clone();
            if order["shipments"].as_array().is_some_and(|s| !s.is_empty()) {
                return order;
            }
            // The shipment follows order.paid through the bus: wait for the next status change.
            shop.observe("order.status_changed")
                .await
                .next(Duration::from_secs(2))
                .await;
        }
    };
    let order = tokio::time::timeout(Duration::from_secs(30), shipped)
        .await
        .expect("the paid order ships within 30 s");
    assert_eq!(
        order["lines"],
        json!([{ "sku": "TEE-V-M-BLUE", "name": "Variant Tee", "variantTitle": "M / Blue",
            "quantity": 2, "variant": { "id": m_blue }, "product": { "id": tee } }])
    );
    assert_eq!(
        order["shipments"][0]["lines"],
        json!([{ "quantity": 2, "variant": { "id": m_blue, "sku": "TEE-V-M-BLUE" },
            "product": { "id": tee } }])
    );

    // Only that variant's stock moved.
    let page = shop.data(PRODUCT_PAGE, json!({ "id": tee }), None).await["product"].clone();
    assert_eq!(available_of(&page, m_blue), 3);
    assert_eq!(available_of(&page, l_red), 3);
    assert_eq!(page["availability"]["availableQuantity"], 6);

    // Search counts the colours of the T-shirt's variants on sale.
    let facets = async {
        loop {
            let found = shop.data(
                "query($f: ProductSearchFilter) { searchProducts(query: \"variant tee\", filter: $f) {
                    totalCount facets { options { name values { value count } } } } }",
                json!({ "f": { "optionValues": [{ "name": "Colour", "value": "Blue" }] } }),
                None,
            )
            .await["searchProducts"]
                .clone();
            if found["totalCount"] == 1 {
                return found;
            }
            indexed
                .changed()
                .await
                .expect("the indexer lives as long as the shop");
        }
    };
    let found = tokio::time::timeout(Duration::from_secs(10), facets)
        .await
        .expect("the T-shirt is indexed within 10 s");
    let colours = found["facets"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Colour")
        .cloned()
        .unwrap_or_else(|| panic!("{found:#}"));
    let mut counts: Vec<(String, i64)> = colours["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [("Blue".to_string(), 1), ("Red".to_string(), 1)]);
}
