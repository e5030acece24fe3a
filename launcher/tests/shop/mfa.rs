//! The second factor through the router, with the shop requiring it of staff: the demo admin
//! holds no permission until TOTP is on, then signs in with a code computed here (each code
//! once) and may act again; a recovery code works once.

use serde_json::{json, Value};

use crate::client::{error_code, TestShop};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) {
    accessToken mfaToken userErrors { code } } }";
const VERIFY: &str = "mutation($input: VerifyMfaInput!) { verifyMfa(input: $input) {
    accessToken userErrors { code } } }";
const WAREHOUSES: &str = "{ warehouses { id } }";

fn now_secs() -> i64 {
    primitives::time::now_millis() / 1000
}

async fn login(shop: &TestShop) -> Value {
    shop.data(
        LOGIN,
        json!({ "input": { "email": shop::DEMO_ADMIN.0, "password": shop::DEMO_ADMIN.1 } }),
        None,
    )
    .await["login"]
        .clone()
}

async fn verify(shop: &TestShop, token: &Value, code: &str) -> Value {
    shop.data(
        VERIFY,
        json!({ "input": { "mfaToken": token, "code": code } }),
        None,
    )
    .await["verifyMfa"]
        .clone()
}

#[tokio::test]
async fn staff_act_only_with_totp_on_and_sign_in_with_a_code_or_a_recovery_code_once() {
    let shop = TestShop::start_with(1, |options| {
        options.set("ACCOUNTS_STAFF_MFA", "required");
    })
    .await;
    // Without a second factor: signed in, but holding no permission.
    let token = login(&shop).await["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = shop.post(WAREHOUSES, json!({}), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{body}");

    let started = shop
        .data("mutation { startTotp { secret } }", json!({}), Some(&token))
        .await;
    let secret = started["startTotp"]["secret"].as_str().unwrap().to_string();
    let now = now_secs();
    let code = accounts::domain::mfa::code_at(&secret, now).unwrap();
    let confirmed = shop
        .data(
            "mutation($code: String!) { confirmTotp(input: { code: $code }) { recoveryCodes } }",
            json!({ "code": code }),
            Some(&token),
        )
        .await;
    let recovery: Vec<String> =
        serde_json::from_value(confirmed["confirmTotp"]["recoveryCodes"].clone()).unwrap();

    // The password alone no longer signs in; a code does, once.
    let challenge = login(&shop).await;
    assert!(challenge["accessToken"].is_null(), "{challenge}");
    let used = verify(&shop, &challenge["mfaToken"], &code).await;
    assert_eq!(used["userErrors"][0]["code"], "INVALID_MFA_CODE");
    let next = accounts::domain::mfa::code_at(&secret, now + 30).unwrap();
    let signed_in = verify(&shop, &challenge["mfaToken"], &next).await;
    let token = signed_in["accessToken"].as_str().unwrap();
    let warehouses = shop.data(WAREHOUSES, json!({}), Some(token)).await;
    assert!(!warehouses["warehouses"].as_array().unwrap().is_empty());

    // A recovery code signs in once.
    let challenge = login(&shop).await;
    assert!(verify(&shop, &challenge["mfaToken"], &recovery[3]).await["accessToken"].is_string());
    let challenge = login(&shop).await;
    let again = verify(&shop, &challenge["mfaToken"], &recovery[3]).await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_MFA_CODE");
}
