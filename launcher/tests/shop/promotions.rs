//! Promotions through the router: an admin makes a code for 10% off the demo's rule-based
//! "Under $25" collection and automatic free shipping over 50.00; a customer's cart with a cheap
//! product from the collection and a dearer one from outside it gets 10% off the cheap line only
//! and free shipping, in the preview and in the order, and pays that.

use serde_json::{json, Value};

use crate::client::TestShop;
use crate::purchase::{add_line, minor};

/// A product in stock from `products`, its id and price in minor units.
fn in_stock(products: &Value, pick: impl Fn(i64) -> bool) -> (String, i64) {
    products
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|p| p["availability"]["availableQuantity"].as_i64().unwrap_or(0) >= 5)
        .filter(|p| p["options"].as_array().is_some_and(|o| o.is_empty()))
        .map(|p| (p["id"].as_str().unwrap().to_string(), minor(&p["price"])))
        .find(|(_, price)| pick(*price))
        .expect("a product in stock")
}

#[tokio::test]
async fn a_collection_code_and_free_shipping_over_fifty_are_in_the_preview_and_the_order() {
    let shop = TestShop::start(60).await;
    let admin = shop.admin_token().await;
    let customer = shop.customer_token().await;
    const FIELDS: &str = "id price { amount } options { name }
        availability { availableQuantity }";
    let cheap = shop
        .data(
            &format!(
                "{{ collection(slug: \"under-25\") {{ id products(first: 50) {{
                    edges {{ node {{ {FIELDS} }} }} }} }} }}"
            ),
            json!({}),
            None,
        )
        .await;
    let collection = cheap["collection"]["id"].as_str().unwrap().to_string();
    let (cheap, cheap_price) = in_stock(&cheap["collection"]["products"]["edges"], |_| true);
    let dear = shop
        .data(
            &format!("{{ products(first: 60) {{ edges {{ node {{ {FIELDS} }} }} }} }}"),
            json!({}),
            None,
        )
        .await;
    let (dear, dear_price) = in_stock(&dear["products"]["edges"], |price| price > 5_000);

    let create = |input: Value| {
        let shop = &shop;
        let admin = &admin;
        async move {
            let made = shop
                .data(
                    "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) {
                        promotion { id } userErrors { field code message } } }",
                    json!({ "input": input }),
                    Some(admin),
                )
                .await;
            assert_eq!(made["createPromotion"]["userErrors"], json!([]), "{made}");
        }
    };
    create(
        json!({ "name": "Small treats", "code": "TREATS10", "kind": "PERCENT_OFF",
        "percent": "10", "appliesTo": "COLLECTIONS", "appliesToIds": [collection],
        "currencyCode": "USD" }),
    )
    .await;
    create(
        json!({ "name": "Free shipping over 50", "kind": "FREE_SHIPPING",
        "minimumSubtotal": "50.00", "currencyCode": "USD" }),
    )
    .await;

    add_line(
        &shop,
        &customer,
        json!({ "productId": cheap, "quantity": 2 }),
    )
    .await;
    let cart = add_line(
        &shop,
        &customer,
        json!({ "productId": dear, "quantity": 1 }),
    )
    .await;
    let applied = shop
        .data(
            "mutation($input: PromotionCodeInput!) { applyPromotionCode(input: $input) {
                codes userErrors { code message } } }",
            json!({ "input": { "cartId": cart, "code": "treats10" } }),
            Some(&customer),
        )
        .await;
    assert_eq!(
        applied["applyPromotionCode"]["codes"],
        json!(["TREATS10"]),
        "{applied}"
    );

    const MONEY: &str = "subtotal { amount } discount { amount } shipping { amount }
        shippingDiscount { amount } total { amount } discounts { name code amount { amount } }
        lines { discount { amount } }";
    let to = json!({ "fullName": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield",
        "region": "IL", "postalCode": "62701", "countryCode": "US" });
    let preview = shop
        .data(
            &format!(
                "query($input: CheckoutPreviewInput!) {{ checkoutPreview(input: $input) {{
                    preview {{ token {MONEY} }} userErrors {{ code message }} }} }}"
            ),
            json!({ "input": { "cartId": cart, "shippingAddress": to } }),
            Some(&customer),
        )
        .await;
    assert_eq!(
        preview["checkoutPreview"]["userErrors"],
        json!([]),
        "{preview}"
    );
    let preview = &preview["checkoutPreview"]["preview"];
    // 10% of the cheap lines, rounded half to even; nothing off the dear one.
    let cheap_total = 2 * cheap_price;
    let (tenth, rest) = (cheap_total / 10, cheap_total % 10);
    let expected = tenth + i64::from(rest > 5 || (rest == 5 && tenth % 2 == 1));
    assert_eq!(minor(&preview["discount"]), expected, "{preview:#}");
    assert_eq!(preview["discounts"][0]["code"], "TREATS10");
    assert_eq!(preview["discounts"][1]["name"], "Free shipping over 50");
    assert_eq!(preview["shippingDiscount"], preview["shipping"]);
    let line_discounts: Vec<i64> = preview["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| minor(&l["discount"]))
        .collect();
    assert_eq!(line_discounts, [expected, 0]);
    assert_eq!(minor(&preview["subtotal"]), cheap_total + dear_price);
    assert_eq!(
        minor(&preview["total"]),
        cheap_total + dear_price - expected
    );

    let placed = shop
        .data(
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
                    order {{ status payment {{ amount {{ amount }} }} {MONEY} }}
                    userErrors {{ code message }} }} }}"
            ),
            json!({ "input": { "cartId": cart, "shippingAddress": to, "paymentToken": "tok_visa",
                    "idempotencyKey": "treats", "previewToken": preview["token"] } }),
            Some(&customer),
        )
        .await;
    let order = &placed["checkout"]["order"];
    assert_eq!(order["status"], "PAID", "{placed}");
    for field in [
        "subtotal",
        "discount",
        "shipping",
        "shippingDiscount",
        "total",
        "discounts",
        "lines",
    ] {
        assert_eq!(order[field], preview[field], "{field}");
    }
    assert_eq!(
        order["payment"]["amount"]["amount"],
        order["total"]["amount"]
    );

    // Both promotions are in the audit log, made by the admin with `promotions:write`.
    let mut audited = shop
        .shop
        .subgraph::<accounts::Accounts>()
        .service
        .audit_records();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        audited.wait_for(|n| *n >= 2),
    )
    .await
    .expect("the audit records within 10 s")
    .unwrap();
    let log = shop
        .data(
            "{ auditLog(filter: { action: \"createPromotion\" }, first: 5) { edges { node {
                permission entityType after } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let names: Vec<String> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["permission"], "promotions:write");
            let after: Value = serde_json::from_str(e["node"]["after"].as_str().unwrap()).unwrap();
            after["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(names, ["Free shipping over 50", "Small treats"], "{log}");
}
