//! The router's edge: partners on published operations only, automatic persisted queries shared
//! by replicas through Redis, the manifest reloaded without a restart.

use serde_json::{json, Value};

use crate::client::{by_hash, error_code, published, user_error_code, TestShop};

/// A partner API client made by an admin through the router, and its client-credentials token.
async fn partner(shop: &TestShop, name: &str, scopes: &[&str]) -> (String, String) {
    let admin = shop.admin_token().await;
    let (_, body) = published("CreateApiClient");
    let made = shop
        .data(
            &body,
            json!({ "name": name, "kind": "PARTNER", "scopes": scopes }),
            Some(&admin),
        )
        .await["createApiClient"]
        .clone();
    let id = made["client"]["id"].as_str().unwrap().to_string();
    let secret = made["clientSecret"].as_str().unwrap().to_string();
    let (status, token) = client_token(shop, &id, &secret).await;
    assert_eq!(status, 200, "{token}");
    (id, token["access_token"].as_str().unwrap().to_string())
}

async fn client_token(shop: &TestShop, id: &str, secret: &str) -> (u16, Value) {
    let response = shop
        .http
        .post(format!(
            "http://{}/oauth/token",
            shop.shop.address("accounts")
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The partner variant feed pages through the catalog with every variant's SKU, options,
/// price and stock: the demo T-shirt comes with its six sizes and colours.
#[tokio::test]
async fn a_partner_pages_through_the_variant_feed() {
    let shop = TestShop::start(30).await;
    let url = shop.shop.router_url();
    let (_, token) = partner(&shop, "feedco", &["catalog:read"]).await;
    let (feed, _) = published("PartnerVariantFeed");
    let mut after: Option<String> = None;
    let mut products = Vec::new();
    loop {
        let (status, body) = shop
            .post_body(
                &url,
                by_hash(&feed, json!({ "first": 7, "after": after })),
                Some(&token),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body:#}");
        let page = &body["data"]["products"];
        products.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    let listed = shop
        .data("{ products(first: 1) { totalCount } }", json!({}), None)
        .await["products"]["totalCount"]
        .as_u64()
        .unwrap();
    assert_eq!(products.len() as u64, listed);
    let tee = products
        .iter()
        .find(|p| p["slug"] == "everyday-organic-cotton-tee")
        .expect("the demo T-shirt is in the feed");
    let mut variants: Vec<String> = tee["variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "ACTIVE")
        .map(|v| {
            assert!(v["price"]["amount"].is_string() && v["availability"]["inStock"].is_boolean());
            let title: Vec<&str> = v["optionValues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["value"].as_str().unwrap())
                .collect();
            format!("{} {}", v["sku"].as_str().unwrap(), title.join("/"))
        })
        .collect();
    variants.sort();
    assert_eq!(variants.len(), 6, "{variants:?}");
    assert!(
        variants.contains(&"TEE-000001-M-NAVY M/Navy".to_string()),
        "{variants:?}"
    );

    // A published collection, by its slug: the demo's staff picks start with the T-shirt.
    let (collection, _) = published("PartnerCollection");
    let (_, body) = shop
        .post_body(
            &url,
            by_hash(&collection, json!({ "slug": "staff-picks", "first": 2 })),
            Some(&token),
        )
        .await;
    let picks = &body["data"]["collection"]["products"];
    assert_eq!(picks["edges"][0]["node"]["sku"], "TEE-000001", "{body:#}");
    assert!(picks["totalCount"].as_i64().unwrap() >= 2, "{body:#}");
}

#[tokio::test]
async fn a_partner_runs_published_operations_by_id_and_nothing_else() {
    let shop = TestShop::start(3).await;
    let url = shop.shop.router_url();
    let (client_id, token) = partner(&shop, "acme", &["catalog:read"]).await;
    let (catalog, catalog_body) = published("PartnerCatalog");

    let (status, body) = shop
        .post_body(&url, by_hash(&catalog, json!({ "first": 2 })), Some(&token))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["products"]["edges"].as_array().unwrap().len(),
        2
    );
    // The documented `documentId` form, with its prefix.
    let (_, body) = shop
        .post_body(
            &url,
            json!({ "documentId": format!("sha256:{catalog}"), "variables": { "first": 1 } }),
            Some(&token),
        )
        .await;
    assert_eq!(
        body["data"]["products"]["edges"].as_array().unwrap().len(),
        1,
        "{body}"
    );

    // Anything else is refused, each with its own error.
    let refusals = [
        (
            json!({ "query": catalog_body }),
            "PERSISTED_QUERY_ID_REQUIRED",
        ),
        (
            json!({ "query": "{ products(first: 1) { edges { node { id } } } }" }),
            "PERSISTED_QUERY_ID_REQUIRED",
        ),
        (
            by_hash(&published("Navigation").0, json!({})),
            "QUERY_NOT_IN_SAFELIST",
        ),
        (
            by_hash(&"ab".repeat(32), json!({})),
            "PERSISTED_QUERY_NOT_FOUND",
        ),
        (
            by_hash("not-a-hash", json!({})),
            "PERSISTED_QUERY_NOT_FOUND",
        ),
        // A published id with a body that is not its own: a tampered hash.
        (
            json!({ "query": "{ products(first: 1) { edges { node { id } } } }",
                    "extensions": { "persistedQuery": { "version": 1, "sha256Hash": catalog } } }),
            "PERSISTED_QUERY_HASH_MISMATCH",
        ),
        // Published for partners, but it needs a scope this partner lacks.
        (
            by_hash(
                &published("PartnerProductReviews").0,
                json!({ "slug": "x" }),
            ),
            "FORBIDDEN",
        ),
    ];
    for (request, code) in refusals {
        let (_, body) = shop.post_body(&url, request.clone(), Some(&token)).await;
        assert_eq!(error_code(&body), code, "{request}: {body}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }

    // Demand control: the estimate when asked, and a list bomb refused before any subgraph.
    let (status, body) = shop
        .post_body(
            &url,
            json!({ "query": catalog_body, "variables": { "first": 20 }, "extensions": { "cost": true } }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let estimated = body["extensions"]["cost"]["estimated"].as_u64().unwrap();
    assert!(estimated > 20 && estimated < 1000, "{body}");
    assert!(body["data"]["products"]["edges"].is_array(), "{body}");
    let bomb = "{ products(first: 100) { edges { node { reviews(first: 100) { edges { node {
        author { reviews(first: 100) { edges { node { id } } } } } } } } } } }";
    let (_, body) = shop.post_body(&url, json!({ "query": bomb }), None).await;
    assert_eq!(error_code(&body), "COST_ESTIMATED_TOO_EXPENSIVE", "{body}");

    // Revoked by an admin: its token stops working at once, and it gets no new one.
    let admin = shop.admin_token().await;
    let revoked = shop
        .data(
            &published("RevokeApiClient").1,
            json!({ "id": client_id }),
            Some(&admin),
        )
        .await["revokeApiClient"]
        .clone();
    assert!(revoked["client"]["revokedAt"].is_string(), "{revoked}");
    shop.router_applied(1).await;
    let (_, body) = shop
        .post_body(&url, by_hash(&catalog, json!({ "first": 1 })), Some(&token))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let again = shop
        .data(
            &published("RevokeApiClient").1,
            json!({ "id": client_id }),
            Some(&admin),
        )
        .await["revokeApiClient"]
        .clone();
    assert_eq!(user_error_code(&again), "NOT_FOUND");
    // A client id that does not exist gets the same answer as a wrong secret.
    let (status, body) = client_token(&shop, "cli_nobody", "secret").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

async fn within_10s<T, E: std::fmt::Debug>(wait: impl std::future::Future<Output = Result<T, E>>) {
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("within 10 s")
        .expect("the router lives");
}

#[tokio::test]
async fn router_replicas_share_apq_registrations_through_redis_and_reload_the_manifest() {
    let namespace = primitives::id::new_id("router-test");
    let shop = TestShop::start_with(2, |options| {
        options.set("ROUTER_REDIS_URL", "redis://127.0.0.1:6379");
        options.set("ROUTER_REDIS_NAMESPACE", namespace.clone());
    })
    .await;
    let first = shop.shop.router_url();
    // A second replica with the same configuration, on its own copy of the manifest that it
    // reads again as soon as it changes.
    let manifest_path = shop.options.data_dir.join("replica-manifest.json");
    std::fs::write(&manifest_path, shop::PERSISTED_OPERATIONS).unwrap();
    let mut config = shop.shop.router_config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.persisted.manifest = Some(manifest_path.clone());
    config.persisted.reload_interval_ms = 20;
    let replica = router::App::build(config, shop::SUPERGRAPH).await.unwrap();
    let second = format!("http://{}/graphql", replica.local_addr());
    let replica_state = replica.state();
    tokio::spawn(replica.run());

    let query = "query Brands { brands { id name } }";
    let hash = primitives::id::sha256_hex(query.as_bytes());
    // Not registered yet: the answer Apollo clients resend the body on.
    let (_, body) = shop
        .post_body(&second, by_hash(&hash, json!({})), None)
        .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    // A body under another body's hash, or one that is no valid operation, is never kept.
    let tampered = json!({ "query": "{ categories { id } }",
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let (_, body) = shop.post_body(&first, tampered, None).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_HASH_MISMATCH");
    let invalid = "query Nope { nope }";
    let invalid_hash = primitives::id::sha256_hex(invalid.as_bytes());
    let (_, body) = shop
        .post_body(
            &first,
            json!({ "query": invalid,
            "extensions": { "persistedQuery": { "version": 1, "sha256Hash": invalid_hash } } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    for (url, hash) in [
        (&first, &hash),
        (&second, &hash),
        (&first, &invalid_hash),
        (&second, &invalid_hash),
    ] {
        let (_, body) = shop.post_body(url, by_hash(hash, json!({})), None).await;
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    }

    // Registered through one replica, found by hash alone through the other.
    let register = json!({ "query": query,
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let (_, registered) = shop.post_body(&first, register, None).await;
    assert!(registered["data"]["brands"].is_array(), "{registered}");
    let (_, body) = shop
        .post_body(&second, by_hash(&hash, json!({})), None)
        .await;
    assert_eq!(body["data"], registered["data"], "{body}");

    // Published operations run by id for every client, no registration needed.
    let (_, body) = shop
        .post_body(
            &second,
            by_hash(&published("Navigation").0, json!({})),
            None,
        )
        .await;
    assert!(body["data"]["categories"].is_array(), "{body}");

    // The manifest changes: a new operation is served without a restart...
    let mut loads = replica_state.persisted.loads();
    let loaded = loads.borrow().loaded;
    let mut manifest: Value = serde_json::from_str(shop::PERSISTED_OPERATIONS).unwrap();
    let body_text = "query BrandNames { brands { name } }";
    let new_id = primitives::id::sha256_hex(body_text.as_bytes());
    manifest["operations"].as_array_mut().unwrap().push(json!({
        "id": new_id, "name": "BrandNames", "type": "query", "body": body_text,
        "partner": true, "scopes": ["catalog:read"]
    }));
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    within_10s(loads.wait_for(|l| l.loaded > loaded)).await;
    let (_, body) = shop
        .post_body(&second, by_hash(&new_id, json!({})), None)
        .await;
    assert!(body["data"]["brands"].is_array(), "{body}");

    // ...and a manifest with a broken operation is refused whole: the one in use stays.
    manifest["operations"].as_array_mut().unwrap().push(json!({
        "id": primitives::id::sha256_hex(b"query Broken { nope }"), "name": "Broken", "type": "query",
        "body": "query Broken { nope }"
    }));
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    within_10s(loads.wait_for(|l| l.refused >= 1)).await;
    let (_, body) = shop
        .post_body(&second, by_hash(&new_id, json!({})), None)
        .await;
    assert!(body["data"]["brands"].is_array(), "{body}");
    assert!(replica_state.persisted.manifest().get(&new_id).is_some());
}
