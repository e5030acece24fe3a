use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::client::{error_code, TestShop};

const ME: &str = "{ me { id } }";

fn now_secs() -> i64 {
    primitives::time::now_millis() / 1000
}

async fn demo_customer_id(shop: &TestShop) -> String {
    let token = shop.customer_token().await;
    shop.data(ME, json!({}), Some(&token)).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_unauthenticated() {
    let shop = TestShop::start(1).await;
    let user_id = demo_customer_id(&shop).await;
    let jwks: serde_json::Value = shop
        .http
        .get(format!(
            "http://{}/.well-known/jwks.json",
            shop.shop.address("accounts")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_string();

    // Signed with another key under the real key's id.
    let other_key = accounts::domain::tokens::generate_signing_key();
    let forger =
        accounts::domain::tokens::TokenSigner::new(&kid, &other_key, "shop-accounts", "shop", 900)
            .unwrap();
    let forged = forger
        .sign(
            &user_id,
            &accounts::domain::Grants::new(
                &[accounts::domain::Role::Customer],
                auth::Permission::ALL.to_vec(),
            ),
            now_secs(),
        )
        .unwrap();

    // Signed with the real key, but an hour old.
    let expired = shop
        .shop
        .subgraph::<accounts::Accounts>()
        .service
        .signer()
        .sign(
            &user_id,
            &accounts::domain::Grants::new(&[accounts::domain::Role::Customer], Vec::new()),
            now_secs() - 3600,
        )
        .unwrap();

    // Signed with the real key, but valid only later, issued tomorrow, or valid until 9999.
    let accounts = shop.shop.subgraph::<accounts::Accounts>();
    let signer = accounts.service.signer();
    let claims = |iat: i64, exp: i64, nbf: Option<i64>| auth::Claims {
        sub: user_id.clone(),
        roles: vec!["customer".into()],
        scope: String::new(),
        exp,
        iat,
        nbf,
        iat_ms: None,
        sid: None,
        iss: "shop-accounts".into(),
        aud: "shop".into(),
    };
    let now = now_secs();
    let not_yet = signer
        .sign_claims(&claims(now, now + 600, Some(now + 3600)))
        .unwrap();
    let from_tomorrow = signer
        .sign_claims(&claims(now + 86_400, now + 87_000, None))
        .unwrap();
    let until_9999 = signer
        .sign_claims(&claims(now, 253_402_300_799, None))
        .unwrap();

    // `alg: none` with admin claims and no signature.
    let header =
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": user_id, "roles": ["customer", "staff"], "scope": "catalog:write staff:manage", "iat": now_secs(), "exp": now_secs() + 600, "iss": "shop-accounts", "aud": "shop" })
            .to_string(),
    );
    let unsigned = format!("{header}.{claims}.");

    // A valid token whose payload was edited to add staff permissions.
    let genuine = shop.customer_token().await;
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered_claims = URL_SAFE_NO_PAD.encode(
        json!({ "sub": user_id, "roles": ["customer", "staff"], "scope": "catalog:write staff:manage", "iat": now_secs(), "exp": now_secs() + 600, "iss": "shop-accounts", "aud": "shop" })
            .to_string(),
    );
    let tampered = format!("{}.{}.{}", parts[0], tampered_claims, parts[2]);

    for (name, token) in [
        ("forged", forged),
        ("expired", expired),
        ("nbf an hour ahead", not_yet),
        ("iat a day ahead", from_tomorrow),
        ("exp in 9999", until_9999),
        ("alg none", unsigned),
        ("tampered", tampered),
        ("garbage", "abc".to_string()),
    ] {
        let (status, body) = shop.post(ME, json!({}), Some(&token)).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{name}: {body}");
        assert!(
            body.get("data").is_none_or(|d| d.is_null()),
            "{name}: {body}"
        );
    }

    // The same request with the genuine token works.
    let (status, body) = shop.post(ME, json!({}), Some(&genuine)).await;
    assert_eq!(
        (status, body["data"]["me"]["id"].as_str()),
        (200, Some(user_id.as_str()))
    );
}

#[tokio::test]
async fn admin_operations_need_the_admin_scope() {
    let shop = TestShop::start(1).await;
    let (category, _) = shop.some_category_and_brand().await;
    let input = json!({ "sku": "AUTH-001", "name": "Guarded Lamp", "categoryId": category, "price": { "amount": "10.00", "currencyCode": "USD" } });

    let (status, body) = shop
        .create_product(&shop.customer_token().await, input.clone())
        .await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{body}");

    let (status, body) = shop
        .post("mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }", json!({ "input": input }), None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );

    // Nothing was created by the refused calls; the admin's call works.
    let (status, body) = shop.create_product(&shop.admin_token().await, input).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["createProduct"]["product"]["sku"], "AUTH-001",
        "{body}"
    );
}

#[tokio::test]
async fn subgraphs_check_tokens_themselves_too() {
    // A request that bypasses the router's checks (it carries the router's secret) still meets
    // the same rules at the subgraph.
    let shop = TestShop::start(1).await;
    let customer = shop.customer_token().await;
    let response: serde_json::Value = shop
        .as_router("catalog")
        .bearer_auth(&customer)
        .json(&json!({ "query": "mutation { createBrand(input: { name: \"Sneaky\" }) { brand { id } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    let response: serde_json::Value = shop
        .as_router("catalog")
        .bearer_auth("not.a.token")
        .json(&json!({ "query": "{ brands { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&response), "UNAUTHENTICATED", "{response}");
}
