use serde_json::json;

use crate::client::{error_code, user_error_code, TestShop};

const ME: &str = "{ me { id email name roles addresses { id city countryCode } } }";

#[tokio::test]
async fn a_customer_registers_logs_in_refreshes_and_reads_me() {
    let shop = TestShop::start(0).await;
    let registered = shop
        .register("Ada@Example.com", "analytical-engine-1843", "Ada Lovelace")
        .await;
    assert_eq!(registered["userErrors"], json!([]));
    assert_eq!(registered["user"]["email"], "ada@example.com");
    assert_eq!(registered["expiresIn"], 900);

    let login = shop
        .login("ada@example.com", "analytical-engine-1843")
        .await;
    let token = login["accessToken"].as_str().unwrap();
    let me = shop.data(ME, json!({}), Some(token)).await;
    assert_eq!(me["me"]["name"], "Ada Lovelace");
    assert_eq!(me["me"]["roles"], json!(["CUSTOMER"]));

    // Refresh: a new pair; the old refresh token is now spent.
    let first = login["refreshToken"].as_str().unwrap();
    let refreshed = shop.refresh(first).await;
    let second = refreshed["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let me = shop
        .data(ME, json!({}), refreshed["accessToken"].as_str())
        .await;
    assert_eq!(me["me"]["id"], registered["user"]["id"]);

    // Reusing the spent token is refused and revokes the whole family, the new token included.
    let reused = shop.refresh(first).await;
    assert_eq!(user_error_code(&reused), "INVALID_REFRESH_TOKEN");
    assert!(reused["accessToken"].is_null());
    let after_reuse = shop.refresh(&second).await;
    assert_eq!(user_error_code(&after_reuse), "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let shop = TestShop::start(0).await;
    let session = shop
        .register("grace@example.com", "compiler-cobol-1959", "Grace")
        .await;
    let refresh = session["refreshToken"].as_str().unwrap();
    let logout = shop
        .data(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { success userErrors { code } } }",
            json!({ "t": refresh }),
            None,
        )
        .await;
    assert_eq!(logout["logout"]["success"], true);
    assert_eq!(
        user_error_code(&shop.refresh(refresh).await),
        "INVALID_REFRESH_TOKEN"
    );
}

#[tokio::test]
async fn bad_registrations_get_user_errors_and_store_nothing() {
    let shop = TestShop::start(0).await;
    for (email, password, code) in [
        ("not-an-email", "long-enough-password", "INVALID_EMAIL"),
        ("x@example.com", "short", "WEAK_PASSWORD"),
        ("y@example.com", "password123", "WEAK_PASSWORD"),
    ] {
        let payload = shop.register(email, password, "Someone").await;
        assert_eq!(user_error_code(&payload), code, "{email}");
        assert!(payload["accessToken"].is_null());
        assert_eq!(payload["userErrors"][0]["field"][0], "input");
    }
    // Nothing half-stored: the refused address can still be registered properly.
    let ok = shop
        .register("x@example.com", "a-much-better-password", "X")
        .await;
    assert_eq!(ok["userErrors"], json!([]));
    let duplicate = shop
        .register("X@EXAMPLE.COM", "another-good-password", "X2")
        .await;
    assert_eq!(user_error_code(&duplicate), "EMAIL_TAKEN");
}

#[tokio::test]
async fn wrong_credentials_get_one_generic_error_and_are_throttled() {
    let shop = TestShop::start(0).await;
    shop.register("lin@example.com", "right-password-123", "Lin")
        .await;
    let unknown = shop.login("nobody@example.com", "whatever-password").await;
    let wrong = shop.login("lin@example.com", "wrong-password-123").await;
    assert_eq!(user_error_code(&unknown), "INVALID_CREDENTIALS");
    assert_eq!(
        unknown["userErrors"][0]["message"],
        wrong["userErrors"][0]["message"]
    );
    for _ in 0..4 {
        shop.login("lin@example.com", "wrong-password-123").await;
    }
    // Five failures: even the right password is refused for a while.
    let throttled = shop.login("lin@example.com", "right-password-123").await;
    assert_eq!(user_error_code(&throttled), "TOO_MANY_ATTEMPTS");
    assert!(throttled["accessToken"].is_null());
}

#[tokio::test]
async fn profile_and_address_book_belong_to_their_owner() {
    let shop = TestShop::start(0).await;
    let ada = shop
        .register("ada2@example.com", "analytical-engine-1843", "Ada")
        .await;
    let token = ada["accessToken"].as_str().unwrap();
    let added = shop
        .data(
            "mutation($input: AddressInput!) { addAddress(input: $input) { address { id city countryCode } userErrors { code field } } }",
            json!({ "input": { "fullName": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH", "countryCode": "gb" } }),
            Some(token),
        )
        .await;
    assert_eq!(added["addAddress"]["address"]["countryCode"], "GB");
    let bad = shop
        .data(
            "mutation($input: AddressInput!) { addAddress(input: $input) { address { id } userErrors { code field } } }",
            json!({ "input": { "fullName": "A", "line1": "x", "city": "y", "postalCode": "1", "countryCode": "Britain" } }),
            Some(token),
        )
        .await;
    assert_eq!(
        bad["addAddress"]["userErrors"][0]["code"],
        "INVALID_ADDRESS"
    );

    let renamed = shop
        .data(
            "mutation { updateProfile(input: { name: \"Countess\" }) { user { name } } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(renamed["updateProfile"]["user"]["name"], "Countess");
    let me = shop.data(ME, json!({}), Some(token)).await;
    assert_eq!(me["me"]["addresses"].as_array().unwrap().len(), 1);

    // Another customer cannot delete Ada's address.
    let other = shop
        .register("eve@example.com", "eavesdropper-pass-1", "Eve")
        .await;
    let address_id = added["addAddress"]["address"]["id"].clone();
    let attempt = shop
        .data(
            "mutation($id: ID!) { deleteAddress(input: { id: $id }) { deletedId userErrors { code } } }",
            json!({ "id": address_id }),
            other["accessToken"].as_str(),
        )
        .await;
    assert_eq!(
        attempt["deleteAddress"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let me = shop.data(ME, json!({}), Some(token)).await;
    assert_eq!(me["me"]["addresses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admins_list_users_change_roles_and_disable_accounts() {
    let shop = TestShop::start(1).await;
    let admin = shop.admin_token().await;
    let customer = shop
        .register("bob@example.com", "builder-bob-password", "Bob")
        .await;
    let bob_id = customer["user"]["id"].clone();

    let listed = shop
        .data(
            "{ users(first: 10, query: \"bob\") { totalCount edges { node { id email } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(listed["users"]["totalCount"], 1);
    assert_eq!(
        listed["users"]["edges"][0]["node"]["email"],
        "bob@example.com"
    );

    let (status, body) = shop
        .post(
            "{ users(first: 10) { edges { node { id } } } }",
            json!({}),
            customer["accessToken"].as_str(),
        )
        .await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"));

    let promoted = shop
        .data(
            "mutation($id: ID!, $roles: [ID!]!) { setStaffRoles(input: { userId: $id, roleIds: $roles }) { user { roles } } }",
            json!({ "id": bob_id, "roles": [accounts::domain::staff::ADMINISTRATOR_ROLE_ID] }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        promoted["setStaffRoles"]["user"]["roles"],
        json!(["CUSTOMER", "STAFF"])
    );

    let disabled = shop
        .data(
            "mutation($id: ID!) { setUserDisabled(input: { userId: $id, disabled: true }) { user { disabled } } }",
            json!({ "id": bob_id }),
            Some(&admin),
        )
        .await;
    assert_eq!(disabled["setUserDisabled"]["user"]["disabled"], true);
    // A disabled account can neither log in nor refresh, and the router refuses its unexpired
    // access token once it applied the change (the promotion, then this).
    shop.router_applied(2).await;
    let (status, body) = shop
        .post(ME, json!({}), customer["accessToken"].as_str())
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    assert_eq!(
        user_error_code(&shop.login("bob@example.com", "builder-bob-password").await),
        "INVALID_CREDENTIALS"
    );
    let refresh = customer["refreshToken"].as_str().unwrap();
    assert_eq!(
        user_error_code(&shop.refresh(refresh).await),
        "INVALID_REFRESH_TOKEN"
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_it_across_accounts() {
    let shop = TestShop::start(0).await;
    shop.register("zed@example.com", "zed-right-password", "Zed")
        .await;
    // 50 failures over different (mostly unknown) emails from this client address.
    for i in 0..50 {
        let attempt = shop
            .login(&format!("guess{i}@example.com"), "wrong-password-123")
            .await;
        assert_eq!(user_error_code(&attempt), "INVALID_CREDENTIALS");
    }
    // A forged x-forwarded-for does not help: the router appends the real peer address.
    let (_, body) = shop
        .http
        .post(shop.shop.router_url())
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({ "query": "mutation { login(input: { email: \"zed@example.com\", password: \"zed-right-password\" }) { accessToken userErrors { code } } }" }))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let body: serde_json::Value = body.json().await.unwrap();
    assert_eq!(
        body["data"]["login"]["userErrors"][0]["code"], "TOO_MANY_ATTEMPTS",
        "{body}"
    );
}
