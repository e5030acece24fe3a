//! What an attacker at accounts' own port cannot do: reset the login throttle with forged
//! forwarding headers, create accounts without limit, leave the shop without an admin, or use
//! a partner's token outside the router.

use accounts::{Accounts, ClientKind};
use kit::testing::{error_code, spawn_app_with, TestApp};
use serde_json::{json, Value};

const LOGIN: &str = "mutation($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) { accessToken userErrors { code } } }";
const REGISTER: &str = "mutation($email: String!) {
    register(input: { email: $email, password: \"a-fine-password-1\", name: \"Someone\" }) {
        accessToken userErrors { code } } }";

/// Posts straight to the port with an `x-forwarded-for` of the caller's choosing.
async fn post_from(
    app: &TestApp<Accounts>,
    forwarded_for: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let mut request = app
        .http
        .post(app.url())
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

fn user_error(body: &Value, field: &str) -> String {
    body["data"][field]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_string()
}

#[tokio::test]
async fn a_forged_forwarded_address_at_the_port_does_not_reset_the_login_throttle() {
    let app = spawn_app_with::<Accounts>(|env| {
        env.set("ACCOUNTS_LOGIN_FAILURES_PER_ADDRESS", "5")
            .set("ACCOUNTS_LOGIN_FAILURES_PER_ACCOUNT", "100")
    })
    .await;
    for i in 0..5 {
        let body = post_from(
            &app,
            &format!("203.0.113.{i}"),
            LOGIN,
            json!({ "email": format!("guess{i}@example.com"), "password": "wrong-password-1" }),
            None,
        )
        .await;
        assert_eq!(user_error(&body, "login"), "INVALID_CREDENTIALS", "{body}");
    }
    // A sixth address of the attacker's choosing is not believed: the peer is throttled.
    let body = post_from(
        &app,
        "198.51.100.77",
        LOGIN,
        json!({ "email": "guess6@example.com", "password": "wrong-password-1" }),
        None,
    )
    .await;
    assert_eq!(user_error(&body, "login"), "TOO_MANY_ATTEMPTS", "{body}");
}

#[tokio::test]
async fn registrations_are_throttled_per_address() {
    let app =
        spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_REGISTRATIONS_PER_ADDRESS", "3")).await;
    for i in 0..3 {
        let body = post_from(
            &app,
            &format!("203.0.113.{i}"),
            REGISTER,
            json!({ "email": format!("bulk{i}@example.com") }),
            None,
        )
        .await;
        assert!(
            body["data"]["register"]["accessToken"].is_string(),
            "{body}"
        );
    }
    let body = post_from(
        &app,
        "203.0.113.99",
        REGISTER,
        json!({ "email": "bulk4@example.com" }),
        None,
    )
    .await;
    assert_eq!(
        user_error(&body, "register"),
        "TOO_MANY_REGISTRATIONS",
        "{body}"
    );
    assert!(app
        .subgraph
        .service
        .store
        .user_by_email("bulk4@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn registrations_sent_at_once_from_one_address_keep_to_the_limit() {
    let app =
        spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_REGISTRATIONS_PER_ADDRESS", "3")).await;
    let answers = futures_util::future::join_all((0..12).map(|i| {
        post_from(
            &app,
            "203.0.113.1",
            REGISTER,
            json!({ "email": format!("rush{i}@example.com") }),
            None,
        )
    }))
    .await;
    let created = answers
        .iter()
        .filter(|body| body["data"]["register"]["accessToken"].is_string())
        .count();
    let refused = answers
        .iter()
        .filter(|body| user_error(body, "register") == "TOO_MANY_REGISTRATIONS")
        .count();
    assert_eq!((created, refused), (3, 9), "{answers:?}");
}

/// Signs in and returns the access token.
pub(crate) async fn sign_in(app: &TestApp<Accounts>, email: &str, password: &str) -> String {
    let body = app
        .data(LOGIN, json!({ "email": email, "password": password }), None)
        .await;
    body["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

#[tokio::test]
async fn a_partner_token_is_refused_at_the_port() {
    let app = spawn_app_with::<Accounts>(|env| env).await;
    let (partner, secret) = app
        .subgraph
        .service
        .register_client("acme", ClientKind::Partner, &["catalog:read".into()])
        .await
        .unwrap();
    let (_, token) = crate::clients::token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", partner.id.as_str()),
            ("client_secret", secret.as_str()),
        ],
    )
    .await;
    let token = token["access_token"].as_str().unwrap();
    let body = app
        .graphql("{ _service { sdl } }", json!({}), Some(token))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn a_nul_character_is_refused_at_the_door_not_in_the_database() {
    let app = spawn_app_with::<Accounts>(|env| env).await;
    // As a variable and as an escape in the document: a clear error, nothing stored.
    let body = app
        .graphql(
            "mutation($name: String!) { register(input: { email: \"nul@example.com\", password: \"a-fine-password-1\", name: $name }) { accessToken } }",
            json!({ "name": "Ada\u{0}" }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .graphql(
            "mutation { register(input: { email: \"nul@example.com\", password: \"a-fine-password-1\", name: \"Ada\\u0000\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(app
        .subgraph
        .service
        .store
        .user_by_email("nul@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_address_that_only_looks_like_an_existing_one_gets_no_second_account() {
    for sqlite in [false, true] {
        let app = spawn_app_with::<Accounts>(|env| {
            if sqlite {
                env.set("ACCOUNTS_DATABASE_URL", storage::db::testing::sqlite_url())
            } else {
                env
            }
        })
        .await;
        let first = app
            .data(REGISTER, json!({ "email": "customer@example.com" }), None)
            .await;
        assert!(first["register"]["accessToken"].is_string(), "{first}");
        // Full-width letters are the same address; a Cyrillic "с" and "о" look the same.
        let full_width =
            "\u{ff43}\u{ff55}\u{ff53}\u{ff54}\u{ff4f}\u{ff4d}\u{ff45}\u{ff52}@example.com";
        let cyrillic = "\u{441}ust\u{43e}mer@example.com";
        for (email, code) in [
            (full_width, "EMAIL_TAKEN"),
            (cyrillic, "EMAIL_CONFUSABLE"),
            ("CUSTOMER@example.com", "EMAIL_TAKEN"),
            (
                &*format!("{}@example.com", "a".repeat(250)),
                "INVALID_EMAIL",
            ),
        ] {
            let refused = app.data(REGISTER, json!({ "email": email }), None).await;
            assert_eq!(
                user_error(&json!({ "data": refused }), "register"),
                code,
                "{email}"
            );
            assert!(refused["register"]["accessToken"].is_null());
        }
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(app.database.pool())
            .await
            .unwrap();
        assert_eq!(users, 1, "nothing stored for the refused ones");
        // The full-width address signs in to the same account.
        sign_in(&app, full_width, "a-fine-password-1").await;
    }
}
