//! API clients and the OAuth2 client_credentials grant at `/oauth/token`.

use accounts::Accounts;
use kit::testing::{spawn_app, TestApp};
use serde_json::Value;

async fn token(app: &TestApp<Accounts>, form: &[(&str, &str)]) -> (u16, Value) {
    let response = app
        .http
        .post(format!("http://{}/oauth/token", app.address))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_registered_client_gets_a_token_with_its_scopes() {
    let app = spawn_app::<Accounts>().await;
    let (client, secret) = app
        .subgraph
        .service
        .register_client("carts", &["service".into()])
        .await
        .unwrap();
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "service");
    assert_eq!(body["expires_in"], 900);
    // The token verifies like any access token, for the client, with the service scope.
    let verifier = kit::auth::TokenVerifier::new(
        kit::auth::KeySource::Static(app.subgraph.service.signer().jwks()),
        "shop-accounts",
        "shop",
    );
    let claims = verifier
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.sub, client.id);
    assert_eq!(claims.scope, "service");
    assert!(claims.roles.is_empty());
}

#[tokio::test]
async fn wrong_or_rotated_secrets_and_other_grants_are_refused() {
    let app = spawn_app::<Accounts>().await;
    let service = &app.subgraph.service;
    let (client, old_secret) = service
        .register_client("orders", &["service".into()])
        .await
        .unwrap();
    let (again, new_secret) = service
        .register_client("orders", &["service".into()])
        .await
        .unwrap();
    assert_eq!(again.id, client.id, "re-registering keeps the client id");
    for (secret, id) in [
        ("wrong", client.id.as_str()),
        (old_secret.as_str(), client.id.as_str()),
        (new_secret.as_str(), "cli_unknown"),
    ] {
        let (status, body) = token(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    let (status, body) = token(
        &app,
        &[("grant_type", "password"), ("client_id", &client.id)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Clients never get the admin scope.
    assert!(service
        .register_client("sneaky", &["admin".into()])
        .await
        .is_err());
}
