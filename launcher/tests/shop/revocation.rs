//! Revocation: disabling a user or changing their staff roles stops their still-valid tokens at
//! the router at once (through `user.access_changed` on the event bus), not when they expire.

use serde_json::{json, Value};

use crate::client::{error_code, TestShop};

const CREATE: &str = "mutation($input: CreateProductInput!) { createProduct(input: $input) {
    product { id } userErrors { code } } }";

async fn make_admin(shop: &TestShop, admin: &str, email: &str) -> (String, String) {
    let registered = shop
        .register(email, "revocation-pass-1", "Second Admin")
        .await;
    let id = registered["user"]["id"].as_str().unwrap().to_string();
    let promoted = shop
        .data(
            "mutation($id: ID!, $roles: [ID!]!) { setStaffRoles(input: { userId: $id, roleIds: $roles }) { userErrors { code } } }",
            json!({ "id": id, "roles": [accounts::domain::staff::ADMINISTRATOR_ROLE_ID] }),
            Some(admin),
        )
        .await;
    assert_eq!(promoted["setStaffRoles"]["userErrors"], json!([]));
    let token = shop.token(email, "revocation-pass-1").await;
    (id, token)
}

#[tokio::test]
async fn a_disabled_admins_token_stops_creating_products_at_once() {
    let shop = TestShop::start(3).await;
    let admin = shop.admin_token().await;
    let (category, _) = shop.some_category_and_brand().await;
    let (second, second_token) = make_admin(&shop, &admin, "second-admin@example.com").await;
    shop.router_applied(1).await; // the promotion
    let input = |sku: &str| {
        json!({ "sku": sku, "name": "Revoked Lamp", "categoryId": category,
        "price": { "amount": "10.00", "currencyCode": "USD" } })
    };
    let (_, created) = shop.create_product(&second_token, input("REV-1")).await;
    assert!(
        created["data"]["createProduct"]["product"]["id"].is_string(),
        "{created}"
    );

    let disabled = shop
        .data(
            "mutation($id: ID!) { setUserDisabled(input: { userId: $id, disabled: true }) { user { disabled } } }",
            json!({ "id": second }),
            Some(&admin),
        )
        .await;
    assert_eq!(disabled["setUserDisabled"]["user"]["disabled"], true);
    shop.router_applied(2).await;
    let (_, refused) = shop
        .post(
            CREATE,
            json!({ "input": input("REV-2") }),
            Some(&second_token),
        )
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    // The admin who did it is unaffected.
    let (_, still) = shop.create_product(&admin, input("REV-3")).await;
    assert!(
        still["data"]["createProduct"]["product"]["id"].is_string(),
        "{still}"
    );
}

#[tokio::test]
async fn changed_roles_take_effect_at_once_and_a_fresh_login_carries_them() {
    let shop = TestShop::start(3).await;
    let admin = shop.admin_token().await;
    let (category, _) = shop.some_category_and_brand().await;
    let (second, second_token) = make_admin(&shop, &admin, "demoted@example.com").await;
    shop.router_applied(1).await;
    let demoted: Value = shop
        .data(
            "mutation($id: ID!) { setStaffRoles(input: { userId: $id, roleIds: [] }) { userErrors { code } } }",
            json!({ "id": second }),
            Some(&admin),
        )
        .await;
    assert_eq!(demoted["setStaffRoles"]["userErrors"], json!([]));
    shop.router_applied(2).await;
    let input = json!({ "sku": "DEM-1", "name": "Demoted Lamp", "categoryId": category,
        "price": { "amount": "10.00", "currencyCode": "USD" } });
    let (_, refused) = shop
        .post(
            CREATE,
            json!({ "input": input.clone() }),
            Some(&second_token),
        )
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    // A new token works again, as a customer only.
    let fresh = shop.token("demoted@example.com", "revocation-pass-1").await;
    let (_, forbidden) = shop
        .post(CREATE, json!({ "input": input }), Some(&fresh))
        .await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    let me = shop.data("{ me { roles } }", json!({}), Some(&fresh)).await;
    assert_eq!(me["me"]["roles"], json!(["CUSTOMER"]));
}
