//! Forgotten and changed passwords through the router: the reset link comes by email (read
//! from what notifications wrote), works once and not after it expires, the old password stops
//! working and every session ends; an unknown email gets the same answer; a signed-in change
//! needs the current password and ends the other sessions.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::TestShop;

const REQUEST: &str = "mutation($email: String!) { requestPasswordReset(input: { email: $email }) {
    success userErrors { code } } }";
const RESET: &str = "mutation($token: String!, $password: String!) {
    resetPassword(input: { token: $token, newPassword: $password }) {
        success userErrors { field code message } } }";
const CHANGE: &str = "mutation($current: String!, $new: String!) {
    changePassword(input: { currentPassword: $current, newPassword: $new }) {
        accessToken refreshToken userErrors { code } } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) {
    accessToken userErrors { code } } }";

/// The token in the newest password reset email to `email`, once notifications wrote one
/// beyond the `seen` ones.
async fn reset_token(shop: &TestShop, email: &str, seen: i64) -> String {
    let notifications = shop.shop.subgraph::<notifications::Notifications>();
    let mut outcomes = notifications.service.outcomes();
    let pool = notifications.service.store.database().pool().clone();
    let written = async {
        loop {
            let bodies: Vec<String> = sqlx::query_scalar(
                "SELECT text_body FROM notifications WHERE kind = 'password_reset' AND email = $1 \
                 ORDER BY created_at",
            )
            .bind(email)
            .fetch_all(&pool)
            .await
            .unwrap();
            if bodies.len() as i64 > seen {
                return bodies.last().unwrap().clone();
            }
            outcomes.changed().await.unwrap();
        }
    };
    let body = tokio::time::timeout(Duration::from_secs(20), written)
        .await
        .expect("the reset email within 20 s");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/reset-password?token="))
        .unwrap_or_else(|| panic!("a link in {body}"));
    link.split("token=").nth(1).unwrap().to_string()
}

async fn payload(shop: &TestShop, query: &str, variables: Value, field: &str) -> Value {
    shop.data(query, variables, None).await[field].clone()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_from_the_emailed_link_and_every_session_ends() {
    let shop = TestShop::start(0).await;
    let email = "forgetful@example.com";
    let registered = shop.register(email, "first-password-1", "Forgetful").await;
    let old_refresh = registered["refreshToken"].as_str().unwrap().to_string();

    // Known or not, the same answer.
    for asked in [email, "nobody-here@example.com"] {
        let answer = payload(
            &shop,
            REQUEST,
            json!({ "email": asked }),
            "requestPasswordReset",
        )
        .await;
        assert_eq!(
            answer,
            json!({ "success": true, "userErrors": [] }),
            "{asked}"
        );
    }
    let token = reset_token(&shop, email, 0).await;
    assert!(token.starts_with("prt_"), "{token}");

    // A weak password is refused and does not spend the token.
    let weak = payload(
        &shop,
        RESET,
        json!({ "token": token, "password": "short" }),
        "resetPassword",
    )
    .await;
    assert_eq!(weak["success"], false);
    assert_eq!(weak["userErrors"][0]["code"], "WEAK_PASSWORD", "{weak}");
    let done = payload(
        &shop,
        RESET,
        json!({ "token": token, "password": "second-password-2" }),
        "resetPassword",
    )
    .await;
    assert_eq!(done, json!({ "success": true, "userErrors": [] }));

    // The old password and the old session are over; the new password signs in.
    assert_eq!(
        shop.login(email, "first-password-1").await["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let refreshed = payload(&shop, REFRESH, json!({ "t": old_refresh }), "refreshToken").await;
    assert_eq!(
        refreshed["userErrors"][0]["code"], "INVALID_REFRESH_TOKEN",
        "{refreshed}"
    );
    shop.token(email, "second-password-2").await;

    // The token works once.
    let again = payload(
        &shop,
        RESET,
        json!({ "token": token, "password": "third-password-3" }),
        "resetPassword",
    )
    .await;
    assert_eq!(
        again["userErrors"][0]["code"], "INVALID_RESET_TOKEN",
        "{again}"
    );
    // A guessed one does nothing either.
    let guessed = payload(
        &shop,
        RESET,
        json!({ "token": "prt_guess", "password": "third-password-3" }),
        "resetPassword",
    )
    .await;
    assert_eq!(guessed["userErrors"][0]["code"], "INVALID_RESET_TOKEN");

    // An expired token does nothing.
    payload(
        &shop,
        REQUEST,
        json!({ "email": email }),
        "requestPasswordReset",
    )
    .await;
    let late = reset_token(&shop, email, 1).await;
    let accounts = shop.shop.subgraph::<accounts::Accounts>();
    sqlx::query("UPDATE password_resets SET expires_at = 0 WHERE used_at IS NULL")
        .execute(accounts.service.store.database().pool())
        .await
        .unwrap();
    let expired = payload(
        &shop,
        RESET,
        json!({ "token": late, "password": "third-password-3" }),
        "resetPassword",
    )
    .await;
    assert_eq!(
        expired["userErrors"][0]["code"], "INVALID_RESET_TOKEN",
        "{expired}"
    );
    shop.token(email, "second-password-2").await;
}

#[tokio::test]
async fn a_changed_password_needs_the_current_one_and_ends_the_other_sessions() {
    let shop = TestShop::start(0).await;
    let email = "changer@example.com";
    shop.register(email, "first-password-1", "Changer").await;
    let other = shop.login(email, "first-password-1").await;
    let this = shop.login(email, "first-password-1").await;
    let access = this["accessToken"].as_str().unwrap();

    let wrong = shop
        .data(
            CHANGE,
            json!({ "current": "not-my-password", "new": "second-password-2" }),
            Some(access),
        )
        .await;
    assert_eq!(
        wrong["changePassword"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let changed = shop
        .data(
            CHANGE,
            json!({ "current": "first-password-1", "new": "second-password-2" }),
            Some(access),
        )
        .await["changePassword"]
        .clone();
    assert_eq!(changed["userErrors"], json!([]), "{changed}");
    // This device goes on with its new tokens; the other's session is over.
    let mine = payload(
        &shop,
        REFRESH,
        json!({ "t": changed["refreshToken"] }),
        "refreshToken",
    )
    .await;
    assert!(mine["accessToken"].is_string(), "{mine}");
    let theirs = payload(
        &shop,
        REFRESH,
        json!({ "t": other["refreshToken"] }),
        "refreshToken",
    )
    .await;
    assert_eq!(theirs["userErrors"][0]["code"], "INVALID_REFRESH_TOKEN");
    assert_eq!(
        shop.login(email, "first-password-1").await["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    shop.token(email, "second-password-2").await;
}
