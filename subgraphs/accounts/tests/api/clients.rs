//! API clients and the OAuth2 client_credentials grant at `/oauth/token`.

use accounts::{Accounts, ClientKind};
use kit::testing::{spawn_app, TestApp};
use serde_json::Value;

pub(crate) async fn token(app: &TestApp<Accounts>, form: &[(&str, &str)]) -> (u16, Value) {
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
        .register_client("carts", ClientKind::Service, &["service".into()])
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
    let verifier = auth::TokenVerifier::new(
        auth::KeySource::Static(app.subgraph.service.signer().jwks()),
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
        .register_client("orders", ClientKind::Service, &["service".into()])
        .await
        .unwrap();
    let (again, new_secret) = service
        .register_client("orders", ClientKind::Service, &["service".into()])
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
    // Clients never get a staff permission.
    assert!(service
        .register_client("sneaky", ClientKind::Service, &["catalog:write".into()])
        .await
        .is_err());
}

async fn client_token(app: &TestApp<Accounts>, id: &str, secret: &str) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await
}

#[tokio::test]
async fn partners_get_the_partner_role_and_admins_rotate_and_revoke_them() {
    let app = spawn_app::<Accounts>().await;
    let service = &app.subgraph.service;
    let staff = kit::audit::Auditor::staff("user_admin");
    let (partner, secret) = service
        .create_client(
            &staff,
            "acme",
            ClientKind::Partner,
            &["catalog:read".into()],
        )
        .await
        .unwrap();
    // Names are unique; partners never get the service scope or a staff permission.
    assert!(matches!(
        service
            .create_client(&staff, "acme", ClientKind::Partner, &[])
            .await,
        Err(accounts::service::AccountError::ClientNameTaken)
    ));
    for scope in ["service", "orders:refund", "staff:manage"] {
        assert!(service
            .create_client(&staff, "other", ClientKind::Partner, &[scope.into()])
            .await
            .is_err());
    }

    let (status, body) = client_token(&app, &partner.id, &secret).await;
    assert_eq!(
        (status, body["scope"].as_str()),
        (200, Some("catalog:read"))
    );
    let verifier = auth::TokenVerifier::new(
        auth::KeySource::Static(service.signer().jwks()),
        "shop-accounts",
        "shop",
    );
    let claims = verifier
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.roles, vec![auth::PARTNER_ROLE]);
    assert!(auth::Viewer::from_claims(claims).is_partner());

    // Rotation: the old secret stops working, the new one works; the change is on the bus.
    let (rotated, new_secret) = service
        .rotate_client_secret(&staff, &partner.id)
        .await
        .unwrap();
    assert_eq!(rotated.id, partner.id);
    assert_eq!(client_token(&app, &partner.id, &secret).await.0, 401);
    assert_eq!(client_token(&app, &partner.id, &new_secret).await.0, 200);

    // Revocation: no token any more, not even with the current secret; twice is NOT_FOUND.
    let revoked = service.revoke_client(&staff, &partner.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let (status, body) = client_token(&app, &partner.id, &new_secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(service.revoke_client(&staff, &partner.id).await.is_err());
    assert!(service
        .rotate_client_secret(&staff, &partner.id)
        .await
        .is_err());
    assert!(service
        .rotate_client_secret(&staff, "cli_unknown")
        .await
        .is_err());

    let listed = service.store.api_clients().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kind, ClientKind::Partner);

    // The audit log holds the three changes, by whom, newest first, and never the secret.
    let mut recorded = service.audit_records();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        recorded.wait_for(|n| *n >= 3),
    )
    .await
    .expect("three audit records within 10 s")
    .unwrap();
    let filter = accounts::domain::audit::AuditFilter {
        entity_id: Some(partner.id.clone()),
        ..Default::default()
    };
    let page = kit::pagination::PageRequest {
        cursor: None,
        limit: 10,
        backward: false,
    };
    let entries = service.store.audit_entries(&filter, &page).await.unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor_id.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("revokeApiClient", "user_admin"),
            ("rotateApiClientSecret", "user_admin"),
            ("createApiClient", "user_admin")
        ]
    );
    assert_eq!(entries[2].after.as_ref().unwrap()["name"], "acme");
    assert!(!format!("{entries:?}").contains(&new_secret));
}
