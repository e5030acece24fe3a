//! Taxes and the checkout preview on orders alone: an EU shop (prices with tax) selling to
//! Germany and France, a US shop (tax on top) selling to two states at rates an admin set, the
//! preview, the order, its lines and its charge agreeing to the cent, a cancelled order refunding
//! the tax with the goods, and a checkout refused when the price changed since its preview.

use std::sync::Arc;

use commerce::money::{CurrencyCode, Money};
use commerce::tax::{LineTax, RateTotal, TaxBreakdown};
use kit::testing::TestApp;
use orders::services::CartLine;
use orders::taxes::{TaxProvider, TaxProviderError, TaxRequest};
use orders::Orders;
use serde_json::{json, Value};

use crate::checkout::{start_taxed, start_with, CART, CUSTOMER, LAMP};
use crate::fakes::FakeServices;

const PREVIEW: &str = "query($input: CheckoutPreviewInput!) { checkoutPreview(input: $input) {
    preview { currency subtotal { amount } shipping { amount } tax { amount } total { amount }
      pricesIncludeTax token
      lines { sku quantity lineTotal { amount } tax { name rate amount { amount } } }
      taxLines { name rate amount { amount } taxable { amount } } }
    userErrors { field code message } } }";

const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) {
    order { id status subtotal { amount } shipping { amount } tax { amount } total { amount }
      pricesIncludeTax
      lines { sku tax { name rate amount { amount } } }
      taxLines { name rate amount { amount } taxable { amount } } }
    userErrors { field code message } } }";

const SET_RATE: &str = "mutation($input: SetTaxRateInput!) { setTaxRate(input: $input) {
    taxConfiguration { pricesIncludeTax rates { countryCode region taxClass rate name source } }
    userErrors { field code message } } }";

fn address(country: &str, region: Option<&str>, postal_code: &str) -> Value {
    json!({ "fullName": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
            "region": region, "postalCode": postal_code, "countryCode": country })
}

/// Puts `quantity` lamps in Ada's cart again (a paid checkout empties it).
fn fill_cart(fakes: &FakeServices, quantity: i64) {
    fakes.with(|w| {
        w.carts.insert(
            (CUSTOMER.into(), CART.into()),
            vec![CartLine {
                variant_id: LAMP.into(),
                product_id: "prod_lamp".into(),
                quantity,
            }],
        );
    });
}

fn set_lamp_price(fakes: &FakeServices, price: Money) {
    fakes.with(|w| w.products.get_mut(LAMP).unwrap().price = price);
}

async fn preview(app: &TestApp<Orders>, to: &Value) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        PREVIEW,
        json!({ "input": { "cartId": CART, "shippingAddress": to } }),
        Some(&ada),
    )
    .await["checkoutPreview"]
        .clone()
}

async fn checkout(app: &TestApp<Orders>, to: &Value, key: &str, token: Option<&str>) -> Value {
    let ada = app.tokens.customer(CUSTOMER);
    app.data(
        CHECKOUT,
        json!({ "input": { "cartId": CART, "shippingAddress": to, "paymentToken": "tok_visa",
                "idempotencyKey": key, "previewToken": token } }),
        Some(&ada),
    )
    .await["checkout"]
        .clone()
}

fn amount(value: &Value) -> &str {
    value["amount"].as_str().expect("an amount")
}

/// Minor units of an amount like "12.34".
fn minor(value: &Value) -> i64 {
    Money::parse(amount(value), CurrencyCode::Usd)
        .expect("an amount")
        .minor_units
}

/// The preview's and the order's figures agree to the cent, the lines' and the shipping's tax
/// add up to the order's, and the charge is the order's total.
fn assert_order_agrees(preview: &Value, order: &Value, fakes: &FakeServices) {
    for field in ["subtotal", "shipping", "tax", "total"] {
        assert_eq!(preview[field], order[field], "{field}: {preview} / {order}");
    }
    assert_eq!(preview["taxLines"], order["taxLines"]);
    assert_eq!(preview["pricesIncludeTax"], order["pricesIncludeTax"]);
    let by_rate: i64 = order["taxLines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| minor(&t["amount"]))
        .sum();
    assert_eq!(by_rate, minor(&order["tax"]));
    let order_id = order["id"].as_str().unwrap();
    fakes.with(|w| assert_eq!(w.charges[order_id].amount_minor, minor(&order["total"])));
}

#[tokio::test]
async fn an_eu_shop_holds_19_percent_for_germany_and_20_for_france_in_its_prices() {
    for sqlite in [false, true] {
        let settings = [
            ("ORDERS_PRICES_INCLUDE_TAX", "true"),
            (
                "ORDERS_TAX_RATES",
                "DE:standard:19:DE VAT 19%; FR:standard:20:FR VAT 20%",
            ),
        ];
        let (app, fakes) = start_with(sqlite, 10, 2, &settings).await;
        let eur = |minor_units| Money {
            minor_units,
            currency: CurrencyCode::Eur,
        };
        set_lamp_price(&fakes, eur(5_950));
        fakes.with(|w| w.shipping_price = Some(eur(490)));
        // Two lamps at 59.50 and 4.90 shipping: 123.90 whatever the rate, the tax inside it.
        for (country, postal_code, name, rate, tax, line_tax) in [
            ("DE", "10115", "DE VAT 19%", "19", "19.78", "19.00"),
            ("FR", "75001", "FR VAT 20%", "20", "20.65", "19.83"),
        ] {
            fill_cart(&fakes, 2);
            let to = address(country, None, postal_code);
            let shown = preview(&app, &to).await;
            assert_eq!(shown["userErrors"], json!([]), "{shown}");
            let shown = &shown["preview"];
            assert_eq!(shown["currency"], "EUR");
            assert_eq!(amount(&shown["total"]), "123.90", "{country}: {shown}");
            assert_eq!(amount(&shown["tax"]), tax, "{country}");
            assert_eq!(shown["pricesIncludeTax"], true);
            assert_eq!(shown["taxLines"][0]["name"], name);
            assert_eq!(shown["taxLines"][0]["rate"], rate);
            assert_eq!(amount(&shown["lines"][0]["tax"]["amount"]), line_tax);
            let token = shown["token"].as_str().unwrap();
            let paid = checkout(&app, &to, &format!("eu-{country}"), Some(token)).await;
            assert_eq!(paid["userErrors"], json!([]), "{paid}");
            let order = &paid["order"];
            assert_eq!(order["status"], "PAID");
            assert_order_agrees(shown, order, &fakes);
            assert_eq!(order["lines"][0]["tax"], shown["lines"][0]["tax"]);
        }
        // A cancelled order's refund is its whole total: the tax goes back with the goods.
        let ada = app.tokens.customer(CUSTOMER);
        let order_id = fakes.with(|w| w.charges.keys().next().unwrap().clone());
        let cancelled = app
            .data(
                "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) {
                    order { status total { amount } } userErrors { code } } }",
                json!({ "input": { "orderId": order_id } }),
                Some(&ada),
            )
            .await;
        assert_eq!(
            cancelled["cancelOrder"]["order"]["status"], "CANCELLED",
            "{cancelled}"
        );
        fakes.with(|w| assert_eq!(w.charges[&order_id].refunded_minor, 12_390));
    }
}

#[tokio::test]
async fn a_us_shop_adds_the_rate_an_admin_set_for_each_state() {
    for sqlite in [false, true] {
        let (app, fakes) = start_with(sqlite, 10, 2, &[]).await;
        let admin = app.tokens.admin("usr_admin");
        let set_rate = |region: &str, rate: &str| {
            json!({ "input": { "countryCode": "us", "region": region, "taxClass": "STANDARD",
                    "rate": rate, "name": format!("{region} sales tax") } })
        };
        for (region, rate) in [("CA", "7.25"), ("NY", "8.875")] {
            let set = app
                .data(SET_RATE, set_rate(region, rate), Some(&admin))
                .await;
            assert_eq!(set["setTaxRate"]["userErrors"], json!([]), "{set}");
        }
        let rates = app
            .data(SET_RATE, set_rate("NY", "8.875"), Some(&admin))
            .await;
        let rates = &rates["setTaxRate"]["taxConfiguration"];
        assert_eq!(rates["pricesIncludeTax"], false);
        assert_eq!(
            rates["rates"],
            json!([
                { "countryCode": "US", "region": "CA", "taxClass": "STANDARD", "rate": "7.25",
                  "name": "CA sales tax", "source": "ADMIN" },
                { "countryCode": "US", "region": "NY", "taxClass": "STANDARD", "rate": "8.875",
                  "name": "NY sales tax", "source": "ADMIN" },
            ])
        );
        // Bad rates are refused, saying which field is wrong.
        for (input, field) in [
            (set_rate("CA", "seven"), "rate"),
            (set_rate("CA", "101"), "rate"),
            (set_rate("CA", "7.123456"), "rate"),
            (
                json!({ "input": { "countryCode": "United States", "taxClass": "STANDARD",
                        "rate": "5", "name": "US" } }),
                "countryCode",
            ),
            (
                json!({ "input": { "countryCode": "US", "taxClass": "STANDARD", "rate": "5",
                        "name": " " } }),
                "name",
            ),
        ] {
            let refused = app.data(SET_RATE, input, Some(&admin)).await;
            let errors = &refused["setTaxRate"]["userErrors"];
            assert_eq!(errors[0]["field"], json!(["input", field]), "{refused}");
            assert_eq!(errors[0]["code"], "INVALID_INPUT");
        }
        // A customer may not set rates.
        let ada = app.tokens.customer(CUSTOMER);
        let forbidden = app.graphql(SET_RATE, set_rate("CA", "0"), Some(&ada)).await;
        assert_eq!(
            kit::testing::error_code(&forbidden),
            "FORBIDDEN",
            "{forbidden}"
        );

        // Two lamps at 10.00 and 5.00 shipping, tax on top, rounded per line half to even:
        // CA 1.45 + 0.3625 → 1.81; NY 1.775 + 0.44375 → 1.78 + 0.44 = 2.22.
        for (region, postal_code, tax, total) in [
            ("CA", "94103", "1.81", "26.81"),
            ("NY", "10001", "2.22", "27.22"),
        ] {
            fill_cart(&fakes, 2);
            let to = address("US", Some(region), postal_code);
            let shown = preview(&app, &to).await;
            let shown = &shown["preview"];
            assert_eq!(amount(&shown["tax"]), tax, "{region}: {shown}");
            assert_eq!(amount(&shown["total"]), total, "{region}");
            assert_eq!(shown["pricesIncludeTax"], false);
            let token = shown["token"].as_str().unwrap();
            let paid = checkout(&app, &to, &format!("us-{region}"), Some(token)).await;
            assert_eq!(paid["userErrors"], json!([]), "{paid}");
            assert_order_agrees(shown, &paid["order"], &fakes);
        }
        // A state without a rate is not taxed.
        fill_cart(&fakes, 2);
        let untaxed = preview(&app, &address("US", Some("OR"), "97201")).await;
        assert_eq!(amount(&untaxed["preview"]["tax"]), "0.00", "{untaxed}");
        assert_eq!(untaxed["preview"]["taxLines"], json!([]));
    }
}

#[tokio::test]
async fn a_price_change_since_the_preview_is_refused_naming_it_and_charges_nothing() {
    let (app, fakes) = start_with(false, 10, 2, &[]).await;
    let to = address("US", Some("IL"), "62701");
    let shown = preview(&app, &to).await;
    let token = shown["preview"]["token"].as_str().unwrap().to_string();
    assert_eq!(amount(&shown["preview"]["total"]), "25.00");
    set_lamp_price(&fakes, Money::parse("12.00", CurrencyCode::Usd).unwrap());

    let refused = checkout(&app, &to, "changed", Some(&token)).await;
    assert_eq!(refused["order"], Value::Null, "{refused}");
    let error = &refused["userErrors"][0];
    assert_eq!(error["code"], "PRICE_CHANGED");
    assert_eq!(error["field"], json!(["input", "previewToken"]));
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("LAMP-1 now costs 12.00 (was 10.00)")
            && message.contains("the total is now 29.00 (was 25.00)"),
        "{message}"
    );
    let forged = checkout(&app, &to, "forged", Some("not-a-token")).await;
    assert_eq!(forged["userErrors"][0]["code"], "INVALID_INPUT", "{forged}");
    fakes.with(|w| {
        assert!(w.charges.is_empty());
        assert!(w.holds.is_empty());
    });

    // A fresh preview shows the new price, and checkout charges it.
    let again = preview(&app, &to).await;
    let token = again["preview"]["token"].as_str().unwrap();
    let paid = checkout(&app, &to, "fresh", Some(token)).await;
    assert_eq!(amount(&paid["order"]["total"]), "29.00", "{paid}");
    assert_order_agrees(&again["preview"], &paid["order"], &fakes);
}

/// An external tax engine: 1% of every line ("Engine tax"), or down.
struct Engine {
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl TaxProvider for Engine {
    async fn tax(&self, request: TaxRequest<'_>) -> Result<TaxBreakdown, TaxProviderError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(TaxProviderError::Unavailable("connection refused".into()));
        }
        let lines: Vec<Option<LineTax>> = request
            .lines
            .iter()
            .map(|line| {
                Some(LineTax {
                    name: "Engine tax".into(),
                    rate_ppm: 10_000,
                    tax_minor: line.amount_minor / 100,
                    net_minor: line.amount_minor,
                })
            })
            .collect();
        let tax_minor = lines.iter().flatten().map(|t| t.tax_minor).sum();
        let net_minor = request.lines.iter().map(|l| l.amount_minor).sum();
        Ok(TaxBreakdown {
            rates: vec![RateTotal {
                name: "Engine tax".into(),
                rate_ppm: 10_000,
                tax_minor,
                net_minor,
            }],
            lines,
            tax_minor,
            gross_minor: net_minor + tax_minor,
            net_minor,
        })
    }
}

#[tokio::test]
async fn an_external_tax_engine_replaces_the_built_in_rates_and_its_outage_charges_nothing() {
    let engine = Arc::new(Engine { down: false.into() });
    let (app, fakes) = start_taxed(
        false,
        10,
        2,
        &[("ORDERS_TAX_RATES", "US:standard:50:never used")],
        Some(engine.clone()),
    )
    .await;
    let to = address("US", Some("IL"), "62701");
    // 20.00 of lamps and 5.00 shipping: 1% of each on top.
    let shown = preview(&app, &to).await;
    assert_eq!(amount(&shown["preview"]["tax"]), "0.25", "{shown}");
    assert_eq!(shown["preview"]["taxLines"][0]["name"], "Engine tax");
    assert_eq!(amount(&shown["preview"]["total"]), "25.25");

    engine.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let down = checkout(&app, &to, "k-1", None).await;
    assert_eq!(
        down["userErrors"][0]["code"], "SERVICE_UNAVAILABLE",
        "{down}"
    );
    fakes.with(|w| assert!(w.charges.is_empty()));

    // The same checkout again once it answers.
    engine
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let paid = checkout(&app, &to, "k-1", None).await;
    assert_eq!(amount(&paid["order"]["total"]), "25.25", "{paid}");
}
