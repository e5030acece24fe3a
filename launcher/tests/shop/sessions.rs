//! Sessions through the router: a user signed in on two devices lists both (this one marked),
//! ends the other, whose access token is refused from the next request and whose refresh token
//! no longer works while this one goes on; then ends every session, this one too.

use serde_json::{json, Value};

use crate::client::{error_code, TestShop};

const SESSIONS: &str = "{ me { sessions { id current startedAt lastUsedAt } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeSession(input: { id: $id }) {
    success userErrors { code } } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) {
    accessToken userErrors { code } } }";

#[tokio::test]
async fn a_user_ends_another_devices_session_at_once_then_every_session() {
    let shop = TestShop::start(0).await;
    let email = "two-devices@example.com";
    shop.register(email, "device-password-1", "Two Devices")
        .await;
    let phone = shop.login(email, "device-password-1").await;
    let laptop = shop.login(email, "device-password-1").await;
    let (phone_token, laptop_token) = (
        phone["accessToken"].as_str().unwrap(),
        laptop["accessToken"].as_str().unwrap(),
    );

    let listed = shop.data(SESSIONS, json!({}), Some(laptop_token)).await;
    let sessions = listed["me"]["sessions"].as_array().unwrap().clone();
    // Registering signed in too: three sessions, the laptop's the current one.
    assert_eq!(sessions.len(), 3, "{listed:#}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = shop.data(SESSIONS, json!({}), Some(phone_token)).await["me"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .clone();

    let applied = shop.router_revocations();
    let ended = shop
        .data(REVOKE, json!({ "id": phone_session }), Some(laptop_token))
        .await;
    assert_eq!(
        ended["revokeSession"],
        json!({ "success": true, "userErrors": [] })
    );
    shop.router_applied(applied + 1).await;
    // The phone is out at once: its access token and its refresh token.
    let (_, refused) = shop.post(SESSIONS, json!({}), Some(phone_token)).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    let refreshed: Value = shop
        .data(REFRESH, json!({ "t": phone["refreshToken"] }), None)
        .await;
    assert_eq!(
        refreshed["refreshToken"]["userErrors"][0]["code"],
        "INVALID_REFRESH_TOKEN"
    );
    // The laptop goes on; the phone's session is gone from the list; ending it again: not found.
    let left = shop.data(SESSIONS, json!({}), Some(laptop_token)).await;
    assert_eq!(
        left["me"]["sessions"].as_array().unwrap().len(),
        2,
        "{left:#}"
    );
    let again = shop
        .data(REVOKE, json!({ "id": phone_session }), Some(laptop_token))
        .await;
    assert_eq!(again["revokeSession"]["userErrors"][0]["code"], "NOT_FOUND");
    // Another user's session is not this user's to end.
    let stranger = shop
        .register("stranger@example.com", "another-password-1", "Stranger")
        .await;
    let theirs = shop
        .data(
            SESSIONS,
            json!({}),
            Some(
                stranger["accessToken"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{stranger}")),
            ),
        )
        .await["me"]["sessions"][0]["id"]
        .clone();
    let foreign = shop
        .data(REVOKE, json!({ "id": theirs }), Some(laptop_token))
        .await;
    assert_eq!(
        foreign["revokeSession"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    // Everywhere, this one too.
    let applied = shop.router_revocations();
    let all = shop
        .data(
            "mutation { revokeAllSessions { success } }",
            json!({}),
            Some(laptop_token),
        )
        .await;
    assert_eq!(all["revokeAllSessions"]["success"], true);
    shop.router_applied(applied + 1).await;
    let (_, out) = shop.post(SESSIONS, json!({}), Some(laptop_token)).await;
    assert_eq!(error_code(&out), "UNAUTHENTICATED", "{out}");
    let refreshed = shop
        .data(REFRESH, json!({ "t": laptop["refreshToken"] }), None)
        .await;
    assert_eq!(
        refreshed["refreshToken"]["userErrors"][0]["code"],
        "INVALID_REFRESH_TOKEN"
    );
}
