//! Rate quotes: the parcel weighed with the catalog's weights (a real catalog over HTTP), priced
//! by the rate table; wrong addresses and lines are userErrors.

use kit::testing::spawn_app_with;
use serde_json::json;

use crate::*;

const RATES: &str = "query($input: ShippingRatesInput!) { shippingRates(input: $input) {
    rates { carrier carrierName service serviceName price { amount currencyCode }
        minTransitDays maxTransitDays }
    userErrors { field code message } } }";

fn us_address() -> Value {
    json!({ "fullName": "Ada", "line1": "1 Main St", "city": "Springfield", "region": "IL",
        "postalCode": "62701", "countryCode": "us" })
}

#[tokio::test]
async fn rates_are_priced_by_the_catalogs_weights_and_bad_input_is_a_user_error() {
    let catalog = catalog::spawn_with_demo(5).await;
    let app = spawn_app_with::<Shipping>(|env| {
        env.set("SHIPPING_CARRIER_WEBHOOK_SECRETS", SECRET)
            .set("CATALOG_URL", catalog.url())
    })
    .await;
    let products = catalog
        .data(
            "{ products(first: 2) { edges { node { id weightGrams } } } }",
            json!({}),
            None,
        )
        .await;
    let nodes: Vec<(String, u32)> = products["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["id"].as_str().unwrap().to_string(),
                node["weightGrams"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    let lines = json!([{ "productId": nodes[0].0, "quantity": 2 }, { "productId": nodes[1].0, "quantity": 1 }]);
    let grams = nodes[0].1 * 2 + nodes[1].1;

    let quoted = app
        .data(
            RATES,
            json!({ "input": { "address": us_address(), "lines": lines } }),
            None,
        )
        .await;
    let payload = &quoted["shippingRates"];
    assert_eq!(payload["userErrors"], json!([]));
    let expected: Vec<(String, String, i64)> = app
        .subgraph
        .service
        .settings()
        .rates
        .quote("US", grams)
        .unwrap()
        .into_iter()
        .map(|q| (q.carrier, q.service, q.price.minor_units))
        .collect();
    let offered: Vec<(String, String, i64)> = payload["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let amount = r["price"]["amount"].as_str().unwrap().replace('.', "");
            (
                r["carrier"].as_str().unwrap().into(),
                r["service"].as_str().unwrap().into(),
                amount.parse().unwrap(),
            )
        })
        .collect();
    assert!(!offered.is_empty());
    assert_eq!(offered, expected, "{grams} g");
    assert_eq!(payload["rates"][0]["price"]["currencyCode"], "USD");

    // Abroad, other services; far too heavy, none, and a userError that says why.
    let mut canada = us_address();
    canada["countryCode"] = json!("CA");
    canada["region"] = json!("ON");
    canada["postalCode"] = json!("K1A 0B1");
    let abroad = app
        .data(
            RATES,
            json!({ "input": { "address": canada, "lines": lines } }),
            None,
        )
        .await;
    assert!(abroad["shippingRates"]["rates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["service"] != "ground_advantage"));
    let heavy = json!([{ "productId": nodes[0].0, "quantity": 99 }]);
    let too_heavy = app
        .data(
            RATES,
            json!({ "input": { "address": us_address(), "lines": heavy } }),
            None,
        )
        .await;
    let table = &app.subgraph.service.settings().rates;
    let grams = nodes[0].1 * 99;
    let payload = &too_heavy["shippingRates"];
    if table.quote("US", grams).unwrap().is_empty() {
        assert_eq!(payload["rates"], json!([]));
        let error = &payload["userErrors"][0];
        assert_eq!(error["code"], "UNSHIPPABLE", "{payload}");
        assert_eq!(error["field"], json!(["input", "lines"]), "{payload}");
        assert_eq!(
            error["message"].as_str().unwrap(),
            table.unshippable("US", grams).to_string()
        );
    } else {
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        assert!(!payload["rates"].as_array().unwrap().is_empty());
    }

    let refused = |body: &Value| {
        let error = &body["shippingRates"]["userErrors"][0];
        (
            error["code"].as_str().unwrap_or("<none>").to_string(),
            error["field"].clone(),
        )
    };
    let mut wrong_zip = us_address();
    wrong_zip["postalCode"] = json!("ABCDE");
    let body = app
        .data(
            RATES,
            json!({ "input": { "address": wrong_zip, "lines": lines } }),
            None,
        )
        .await;
    assert_eq!(
        refused(&body),
        (
            "INVALID_ADDRESS".into(),
            json!(["input", "address", "postalCode"])
        )
    );
    let unknown = json!([{ "productId": "prod_nope", "quantity": 1 }]);
    let body = app
        .data(
            RATES,
            json!({ "input": { "address": us_address(), "lines": unknown } }),
            None,
        )
        .await;
    assert_eq!(refused(&body).0, "UNKNOWN_PRODUCT");
    for quantity in [0, -1, 100] {
        let bad = json!([{ "productId": nodes[0].0, "quantity": quantity }]);
        let body = app
            .data(
                RATES,
                json!({ "input": { "address": us_address(), "lines": bad } }),
                None,
            )
            .await;
        assert_eq!(
            refused(&body),
            ("INVALID_INPUT".into(), json!(["input", "lines"])),
            "{quantity}"
        );
    }
    let body = app
        .data(
            RATES,
            json!({ "input": { "address": us_address(), "lines": [] } }),
            None,
        )
        .await;
    assert_eq!(refused(&body).0, "INVALID_INPUT");
}
