//! The second factor (TOTP and recovery codes) with staff required to have one (the default):
//! a staff member holds no permission until TOTP is on; then a sign-in needs a code, each code
//! and recovery code works once, guessing is locked out, and turning it off needs the password
//! and a code.

use accounts::domain::mfa::code_at;
use accounts::Accounts;
use kit::testing::{spawn_app, TestApp};
use serde_json::{json, Value};

const LOGIN: &str = "mutation($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) {
        accessToken mfaToken userErrors { code } } }";
const VERIFY: &str = "mutation($token: String!, $code: String!) {
    verifyMfa(input: { mfaToken: $token, code: $code }) {
        accessToken user { id } userErrors { code field } } }";
const EMAIL: &str = "root@example.com";
const PASSWORD: &str = "orchid-lantern-47";

fn now_secs() -> i64 {
    primitives::time::now_millis() / 1000
}

fn scope(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["scope"].as_str().unwrap().to_string()
}

/// The password step: the challenge token (the account has a second factor).
async fn challenge(app: &TestApp<Accounts>) -> String {
    let login = app
        .data(LOGIN, json!({ "email": EMAIL, "password": PASSWORD }), None)
        .await["login"]
        .clone();
    assert!(login["accessToken"].is_null(), "{login}");
    login["mfaToken"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp<Accounts>, token: &str, code: &str) -> Value {
    app.data(VERIFY, json!({ "token": token, "code": code }), None)
        .await["verifyMfa"]
        .clone()
}

#[tokio::test]
async fn staff_turn_totp_on_and_sign_in_with_codes_that_work_once() {
    let app = spawn_app::<Accounts>().await;
    app.subgraph
        .service
        .create_admin(EMAIL, PASSWORD, "Root")
        .await
        .unwrap();

    // Without a second factor, staff hold no permission.
    let login = app
        .data(LOGIN, json!({ "email": EMAIL, "password": PASSWORD }), None)
        .await["login"]
        .clone();
    let token = login["accessToken"].as_str().unwrap().to_string();
    assert_eq!(scope(&token), "");
    let me = app
        .data("{ me { roles mfaEnabled } }", json!({}), Some(&token))
        .await;
    assert_eq!(
        me["me"],
        json!({ "roles": ["CUSTOMER", "STAFF"], "mfaEnabled": false })
    );

    // Turning TOTP on: a wrong code is refused, the right one answers the recovery codes.
    let started = app
        .data(
            "mutation { startTotp { secret otpauthUri userErrors { code } } }",
            json!({}),
            Some(&token),
        )
        .await["startTotp"]
        .clone();
    let secret = started["secret"].as_str().unwrap().to_string();
    assert!(started["otpauthUri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Shop:root%40example.com?"));
    const CONFIRM: &str = "mutation($code: String!) { confirmTotp(input: { code: $code }) {
        recoveryCodes userErrors { code } } }";
    let wrong = app
        .data(CONFIRM, json!({ "code": "000000" }), Some(&token))
        .await;
    assert_eq!(
        wrong["confirmTotp"]["userErrors"][0]["code"],
        "INVALID_MFA_CODE"
    );
    let now = now_secs();
    let confirmed = app
        .data(
            CONFIRM,
            json!({ "code": code_at(&secret, now).unwrap() }),
            Some(&token),
        )
        .await["confirmTotp"]
        .clone();
    let recovery: Vec<String> = serde_json::from_value(confirmed["recoveryCodes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);

    // A sign-in now waits for a code. The one that confirmed TOTP was used: refused (a replay
    // within its step); the next step's code works, once.
    let first = challenge(&app).await;
    let replay = verify(&app, &first, &code_at(&secret, now).unwrap()).await;
    assert_eq!(replay["userErrors"][0]["code"], "INVALID_MFA_CODE");
    let next = code_at(&secret, now + 30).unwrap();
    let signed_in = verify(&app, &first, &next).await;
    let token = signed_in["accessToken"].as_str().unwrap();
    assert_eq!(scope(token).split(' ').count(), auth::Permission::ALL.len());
    // The challenge is used up, and so is the code.
    let again = verify(&app, &first, &next).await;
    assert_eq!(again["userErrors"][0]["code"], "INVALID_MFA_CHALLENGE");
    let second = challenge(&app).await;
    let replay = verify(&app, &second, &next).await;
    assert_eq!(replay["userErrors"][0]["code"], "INVALID_MFA_CODE");

    // A recovery code (typed in capitals, without its dash) works once.
    let typed = recovery[0].replace('-', "").to_uppercase();
    assert!(verify(&app, &second, &typed).await["accessToken"].is_string());
    let third = challenge(&app).await;
    let reused = verify(&app, &third, &recovery[0]).await;
    assert_eq!(reused["userErrors"][0]["code"], "INVALID_MFA_CODE");
    let me = app
        .data(
            "{ me { mfaEnabled recoveryCodesLeft } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(
        me["me"],
        json!({ "mfaEnabled": true, "recoveryCodesLeft": 9 })
    );

    // Guessing: after five wrong codes (the reused one counted) even a right one is refused.
    for guess in ["111111", "222222", "333333", "444444"] {
        let wrong = verify(&app, &third, guess).await;
        assert_eq!(wrong["userErrors"][0]["code"], "INVALID_MFA_CODE");
    }
    let locked = verify(&app, &third, &recovery[1]).await;
    assert_eq!(locked["userErrors"][0]["code"], "TOO_MANY_ATTEMPTS");
    let me = app
        .data("{ me { recoveryCodesLeft } }", json!({}), Some(token))
        .await;
    assert_eq!(
        me["me"]["recoveryCodesLeft"], 9,
        "the refused code was not spent"
    );
}

#[tokio::test]
async fn turning_totp_off_needs_the_password_and_a_code() {
    let app = spawn_app::<Accounts>().await;
    let service = &app.subgraph.service;
    let user = service
        .register("ada@example.com", "a-fine-password-1", "Ada", "127.0.0.1")
        .await
        .unwrap()
        .user;
    let enrollment = service.start_totp(&user).await.unwrap();
    let now = now_secs();
    service
        .confirm_totp(&user, &code_at(&enrollment.secret, now).unwrap())
        .await
        .unwrap();
    // Starting again while it is on is refused.
    assert!(matches!(
        service.start_totp(&user).await,
        Err(accounts::service::AccountError::MfaAlreadyOn)
    ));
    const DISABLE: &str = "mutation($password: String!, $code: String!) {
        disableTotp(input: { password: $password, code: $code }) { success userErrors { code } } }";
    let token = service
        .signer()
        .sign(
            &user.id,
            &accounts::domain::Grants::new(&[accounts::domain::Role::Customer], Vec::new()),
            now,
        )
        .unwrap();
    let next = code_at(&enrollment.secret, now + 30).unwrap();
    let wrong_password = app
        .data(
            DISABLE,
            json!({ "password": "not-the-password", "code": next }),
            Some(&token),
        )
        .await;
    assert_eq!(
        wrong_password["disableTotp"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let wrong_code = app
        .data(
            DISABLE,
            json!({ "password": "a-fine-password-1", "code": "000000" }),
            Some(&token),
        )
        .await;
    assert_eq!(
        wrong_code["disableTotp"]["userErrors"][0]["code"],
        "INVALID_MFA_CODE"
    );
    assert!(service.has_second_factor(&user.id).await.unwrap());
    let done = app
        .data(
            DISABLE,
            json!({ "password": "a-fine-password-1", "code": next }),
            Some(&token),
        )
        .await;
    assert_eq!(done["disableTotp"]["success"], true, "{done}");
    assert!(!service.has_second_factor(&user.id).await.unwrap());
}
