//! Taxes through the router: an admin makes the shop an EU one (prices with tax) selling to
//! Germany at 19% and France at 20%, then a US one (tax on top) selling to California and New
//! York; each time the checkout preview, the order, its lines, its payment and the confirmation
//! email agree to the cent, and a cancelled order refunds the tax with the goods.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::TestShop;
use crate::purchase::{fill_cart, minor, stocked_product};

const TAX_FIELDS: &str = "subtotal { amount } shipping { amount } tax { amount }
    total { amount currencyCode } pricesIncludeTax
    lines { sku tax { name rate amount { amount } taxable { amount } } }
    taxLines { name rate amount { amount } taxable { amount } }";

fn address(country: &str, region: Option<&str>, postal_code: &str) -> Value {
    json!({ "fullName": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
            "region": region, "postalCode": postal_code, "countryCode": country })
}

async fn configure(shop: &TestShop, admin: &str, prices_include_tax: bool, rates: &[Value]) {
    let settings = shop
        .data(
            "mutation($input: UpdateTaxSettingsInput!) { updateTaxSettings(input: $input) {
                taxConfiguration { pricesIncludeTax } userErrors { code message } } }",
            json!({ "input": { "pricesIncludeTax": prices_include_tax, "rounding": "PER_LINE",
                    "shippingTaxClass": "STANDARD" } }),
            Some(admin),
        )
        .await;
    assert_eq!(
        settings["updateTaxSettings"]["userErrors"],
        json!([]),
        "{settings}"
    );
    for rate in rates {
        let set = shop
            .data(
                "mutation($input: SetTaxRateInput!) { setTaxRate(input: $input) {
                    userErrors { field code message } } }",
                json!({ "input": rate }),
                Some(admin),
            )
            .await;
        assert_eq!(set["setTaxRate"]["userErrors"], json!([]), "{set}");
    }
}

/// The order's confirmation email (its recipient and text), once notifications has written it.
pub(crate) async fn confirmation_email(shop: &TestShop, number: &str) -> (String, String) {
    order_email(shop, "order_paid", number).await
}

/// The order's email of `kind` (its recipient and text), once notifications has written it.
async fn order_email(shop: &TestShop, kind: &str, number: &str) -> (String, String) {
    let notifications = shop.shop.subgraph::<notifications::Notifications>();
    let mut outcomes = notifications.service.outcomes();
    let pool = notifications.service.store.database().pool().clone();
    let written = async {
        loop {
            let body: Option<(String, String)> = sqlx::query_as(
                "SELECT email, text_body FROM notifications WHERE kind = $1 AND subject LIKE $2",
            )
            .bind(kind)
            .bind(format!("%{number}%"))
            .fetch_optional(&pool)
            .await
            .unwrap();
            if let Some(body) = body {
                return body;
            }
            outcomes.changed().await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(20), written)
        .await
        .expect("the email within 20 s")
}

/// Buys two of `product` sent `to`: previews, checks out with the preview's token, and checks
/// that the preview, the order, its lines, its payment and its email agree. Returns the order.
async fn buy(shop: &TestShop, customer: &str, product: &str, to: Value, key: &str) -> Value {
    let cart = fill_cart(shop, customer, product, 2).await;
    let preview = shop
        .data(
            &format!(
                "query($input: CheckoutPreviewInput!) {{ checkoutPreview(input: $input) {{
                    preview {{ token {TAX_FIELDS} }} userErrors {{ code message }} }} }}"
            ),
            json!({ "input": { "cartId": cart, "shippingAddress": to } }),
            Some(customer),
        )
        .await;
    assert_eq!(
        preview["checkoutPreview"]["userErrors"],
        json!([]),
        "{preview}"
    );
    let preview = &preview["checkoutPreview"]["preview"];
    let placed = shop
        .data(
            &format!(
                "mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
                    order {{ id number status payment {{ amount {{ amount }} }} {TAX_FIELDS} }}
                    userErrors {{ code message }} }} }}"
            ),
            json!({ "input": { "cartId": cart, "shippingAddress": to, "paymentToken": "tok_visa",
                    "idempotencyKey": key, "previewToken": preview["token"] } }),
            Some(customer),
        )
        .await;
    let placed = &placed["checkout"];
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    let order = placed["order"].clone();
    assert_eq!(order["status"], "PAID");
    for field in [
        "subtotal",
        "shipping",
        "tax",
        "total",
        "pricesIncludeTax",
        "lines",
        "taxLines",
    ] {
        assert_eq!(
            order[field], preview[field],
            "{field}: {order:#} / {preview:#}"
        );
    }
    assert_eq!(
        order["payment"]["amount"]["amount"],
        order["total"]["amount"]
    );
    let lines_and_shipping: i64 = order["taxLines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| minor(&t["amount"]))
        .sum();
    assert_eq!(lines_and_shipping, minor(&order["tax"]));
    let mut expected = minor(&order["subtotal"]) + minor(&order["shipping"]);
    if order["pricesIncludeTax"] == false {
        expected += minor(&order["tax"]);
    }
    assert_eq!(minor(&order["total"]), expected, "{order:#}");

    // The confirmation names the total and each rate's tax, as the order does.
    let (_, email) = confirmation_email(shop, order["number"].as_str().unwrap()).await;
    let currency = order["total"]["currencyCode"].as_str().unwrap();
    assert!(
        email.contains(&format!(
            "{} {currency}",
            order["total"]["amount"].as_str().unwrap()
        )),
        "{email}"
    );
    for tax in order["taxLines"].as_array().unwrap() {
        let included = if order["pricesIncludeTax"] == true {
            ", included"
        } else {
            ""
        };
        let line = format!(
            "{} ({}%{included}): {} {currency}",
            tax["name"].as_str().unwrap(),
            tax["rate"].as_str().unwrap(),
            tax["amount"]["amount"].as_str().unwrap()
        );
        assert!(email.contains(&line), "{line:?} in {email}");
    }
    order
}

#[tokio::test]
async fn eu_and_us_shops_charge_what_the_preview_showed_and_refund_the_tax_with_the_goods() {
    let shop = TestShop::start(30).await;
    let customer = shop.customer_token().await;
    let admin = shop.admin_token().await;
    let (product, _, _) = stocked_product(&shop, 8).await;
    let rate = |country: &str, region: Option<&str>, rate: &str, name: &str| {
        json!({ "countryCode": country, "region": region, "taxClass": "STANDARD",
                "rate": rate, "name": name })
    };

    configure(
        &shop,
        &admin,
        true,
        &[
            rate("DE", None, "19", "DE VAT 19%"),
            rate("FR", None, "20", "FR VAT 20%"),
        ],
    )
    .await;
    let germany = buy(
        &shop,
        &customer,
        &product,
        address("DE", None, "10115"),
        "de",
    )
    .await;
    let france = buy(
        &shop,
        &customer,
        &product,
        address("FR", None, "75001"),
        "fr",
    )
    .await;
    assert_eq!(germany["taxLines"][0]["rate"], "19");
    assert_eq!(france["taxLines"][0]["rate"], "20");
    // Prices hold their tax: the same goods and shipping cost the same, with more tax inside.
    assert_eq!(germany["subtotal"], france["subtotal"]);
    assert!(minor(&france["tax"]) > minor(&germany["tax"]));

    configure(
        &shop,
        &admin,
        false,
        &[
            rate("US", Some("CA"), "7.25", "CA sales tax"),
            rate("US", Some("NY"), "8.875", "NY sales tax"),
        ],
    )
    .await;
    let california = buy(
        &shop,
        &customer,
        &product,
        address("US", Some("CA"), "94103"),
        "ca",
    )
    .await;
    let new_york = buy(
        &shop,
        &customer,
        &product,
        address("US", Some("NY"), "10001"),
        "ny",
    )
    .await;
    assert_eq!(california["taxLines"][0]["name"], "CA sales tax");
    assert_eq!(new_york["taxLines"][0]["name"], "NY sales tax");
    assert!(minor(&new_york["tax"]) > minor(&california["tax"]));

    // Cancelling refunds the whole total: the tax goes back with the goods.
    let webhooks = shop.shop.subgraph::<payments::Payments>().webhooks.clone();
    let mut applied = webhooks.applied();
    let seen = *applied.borrow_and_update();
    let cancelled = shop
        .data(
            "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) {
                order { status } userErrors { code message } } }",
            json!({ "input": { "orderId": new_york["id"], "reason": "changed my mind" } }),
            Some(&customer),
        )
        .await;
    assert_eq!(
        cancelled["cancelOrder"]["order"]["status"], "CANCELLED",
        "{cancelled}"
    );
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n > seen))
        .await
        .expect("the refund's webhook arrives within 10 s")
        .unwrap();
    let order = shop
        .data(
            "query($id: ID!) { order(id: $id) { payment { status refundedAmount { amount } } } }",
            json!({ "id": new_york["id"] }),
            Some(&customer),
        )
        .await;
    assert_eq!(order["order"]["payment"]["status"], "REFUNDED", "{order}");
    assert_eq!(
        order["order"]["payment"]["refundedAmount"]["amount"],
        new_york["total"]["amount"]
    );
    // The refund email says how much of it is tax: all of the order's, refunded in full.
    let number = new_york["number"].as_str().unwrap();
    let (_, refund) = order_email(&shop, "refund", number).await;
    let tax = new_york["taxLines"][0]["amount"]["amount"]
        .as_str()
        .unwrap();
    assert!(
        refund.contains("Of it, NY sales tax (") && refund.contains(&format!(": {tax} USD")),
        "{refund}"
    );
}
