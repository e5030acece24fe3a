//! Staff roles: what they grant reaches the tokens, nobody changes their own access, the shop
//! always keeps an active staff manager, and the migration gives existing admins every
//! permission.

use accounts::store::AccountsStore;
use accounts::Accounts;
use auth::Permission;
use kit::audit::Auditor;
use kit::testing::{spawn_app_with, TestApp};
use serde_json::{json, Value};

use crate::abuse::sign_in;

const CREATE_ROLE: &str = "mutation($name: String!, $permissions: [Permission!]!) {
    createStaffRole(input: { name: $name, permissions: $permissions }) {
        role { id name permissions memberCount } userErrors { code field } } }";
const UPDATE_ROLE: &str = "mutation($id: ID!, $permissions: [Permission!]) {
    updateStaffRole(input: { id: $id, permissions: $permissions }) {
        role { permissions } userErrors { code } } }";
const DELETE_ROLE: &str = "mutation($id: ID!) {
    deleteStaffRole(input: { id: $id }) { deletedId userErrors { code } } }";
const SET_ROLES: &str = "mutation($user: ID!, $roles: [ID!]!) {
    setStaffRoles(input: { userId: $user, roleIds: $roles }) {
        user { id } userErrors { code } } }";
const SET_DISABLED: &str = "mutation($id: ID!, $disabled: Boolean!) {
    setUserDisabled(input: { userId: $id, disabled: $disabled }) { user { id } userErrors { code } } }";

/// The claims of an access token (its signature checked elsewhere).
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn register(app: &TestApp<Accounts>, email: &str) -> String {
    app.subgraph
        .service
        .register(email, "a-fine-password-1", "Staff", "127.0.0.1")
        .await
        .unwrap()
        .user
        .id
}

fn errors(body: &Value, field: &str) -> Value {
    body[field]["userErrors"].clone()
}

#[tokio::test]
async fn a_role_grants_its_permissions_to_its_members_tokens() {
    let app = spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_STAFF_MFA", "optional")).await;
    let (_, _) = app
        .subgraph
        .service
        .create_admin("root@example.com", "orchid-lantern-47", "Root")
        .await
        .unwrap();
    let root = sign_in(&app, "root@example.com", "orchid-lantern-47").await;
    let root_scopes: Vec<&str> = Permission::ALL.iter().map(|p| p.scope()).collect();
    assert_eq!(claims(&root)["scope"], root_scopes.join(" "));
    assert_eq!(claims(&root)["roles"], json!(["customer", "staff"]));

    // Refusals first: nothing is stored.
    let body = app
        .data(
            CREATE_ROLE,
            json!({ "name": "  ", "permissions": ["ORDERS_REFUND"] }),
            Some(&root),
        )
        .await;
    assert_eq!(
        errors(&body, "createStaffRole"),
        json!([{ "code": "INVALID_STAFF_ROLE", "field": ["input", "name"] }])
    );
    let body = app
        .data(
            CREATE_ROLE,
            json!({ "name": "Nothing", "permissions": [] }),
            Some(&root),
        )
        .await;
    assert_eq!(
        errors(&body, "createStaffRole"),
        json!([{ "code": "INVALID_STAFF_ROLE", "field": ["input", "permissions"] }])
    );
    let body = app
        .data(
            CREATE_ROLE,
            json!({ "name": "Administrator", "permissions": ["ORDERS_READ"] }),
            Some(&root),
        )
        .await;
    assert_eq!(
        errors(&body, "createStaffRole")[0]["code"],
        "STAFF_ROLE_NAME_TAKEN"
    );

    let body = app
        .data(
            CREATE_ROLE,
            json!({ "name": "Refunds", "permissions": ["ORDERS_REFUND", "ORDERS_READ", "ORDERS_REFUND"] }),
            Some(&root),
        )
        .await;
    let role = &body["createStaffRole"]["role"];
    assert_eq!(role["permissions"], json!(["ORDERS_READ", "ORDERS_REFUND"]));
    assert_eq!(role["memberCount"], 0);
    let role_id = role["id"].as_str().unwrap().to_string();

    let clerk = register(&app, "clerk@example.com").await;
    let before = sign_in(&app, "clerk@example.com", "a-fine-password-1").await;
    assert_eq!(claims(&before)["scope"], "");
    assert_eq!(claims(&before)["roles"], json!(["customer"]));
    let body = app
        .data(
            SET_ROLES,
            json!({ "user": clerk, "roles": [role_id] }),
            Some(&root),
        )
        .await;
    assert_eq!(errors(&body, "setStaffRoles"), json!([]));
    let token = sign_in(&app, "clerk@example.com", "a-fine-password-1").await;
    assert_eq!(claims(&token)["scope"], "orders:read orders:refund");
    assert_eq!(claims(&token)["roles"], json!(["customer", "staff"]));
    let me = app
        .data(
            "{ me { roles permissions staffRoles { name } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        me["me"],
        json!({ "roles": ["CUSTOMER", "STAFF"], "permissions": ["ORDERS_READ", "ORDERS_REFUND"],
                "staffRoles": [{ "name": "Refunds" }] })
    );

    // The clerk cannot manage staff: FORBIDDEN at the subgraph itself.
    let body = app
        .graphql(
            CREATE_ROLE,
            json!({ "name": "Mine", "permissions": ["STAFF_MANAGE"] }),
            Some(&token),
        )
        .await;
    assert_eq!(kit::testing::error_code(&body), "FORBIDDEN", "{body}");

    // Changing the role changes the next token.
    let body = app
        .data(
            UPDATE_ROLE,
            json!({ "id": role_id, "permissions": ["ORDERS_READ"] }),
            Some(&root),
        )
        .await;
    assert_eq!(errors(&body, "updateStaffRole"), json!([]));
    let token = sign_in(&app, "clerk@example.com", "a-fine-password-1").await;
    assert_eq!(claims(&token)["scope"], "orders:read");

    // Deleting it ends the clerk's staff access.
    let body = app
        .data(DELETE_ROLE, json!({ "id": role_id }), Some(&root))
        .await;
    assert_eq!(body["deleteStaffRole"]["deletedId"], json!(role_id));
    let token = sign_in(&app, "clerk@example.com", "a-fine-password-1").await;
    assert_eq!(claims(&token)["scope"], "");
    assert_eq!(claims(&token)["roles"], json!(["customer"]));

    let body = app
        .data(
            SET_ROLES,
            json!({ "user": clerk, "roles": ["srole_unknown"] }),
            Some(&root),
        )
        .await;
    assert_eq!(errors(&body, "setStaffRoles")[0]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn nobody_changes_their_own_access() {
    let app = spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_STAFF_MFA", "optional")).await;
    let service = &app.subgraph.service;
    let (root, _) = service
        .create_admin("root@example.com", "orchid-lantern-47", "Root")
        .await
        .unwrap();
    let (deputy, _) = service
        .create_admin("deputy@example.com", "meadow-copper-82", "Deputy")
        .await
        .unwrap();
    let token = sign_in(&app, "root@example.com", "orchid-lantern-47").await;
    let helpers = service
        .create_staff_role(
            &Auditor::staff(&root),
            "Helpers",
            &[Permission::ReviewsModerate],
        )
        .await
        .unwrap();

    // Giving oneself another role, or taking one's own away.
    for roles in [
        json!([accounts::domain::staff::ADMINISTRATOR_ROLE_ID, helpers.id]),
        json!([]),
    ] {
        let body = app
            .data(
                SET_ROLES,
                json!({ "user": root, "roles": roles }),
                Some(&token),
            )
            .await;
        assert_eq!(errors(&body, "setStaffRoles")[0]["code"], "OWN_ACCESS");
    }
    // Changing or deleting a role one holds.
    let body = app
        .data(
            UPDATE_ROLE,
            json!({ "id": accounts::domain::staff::ADMINISTRATOR_ROLE_ID, "permissions": ["ORDERS_READ"] }),
            Some(&token),
        )
        .await;
    assert_eq!(errors(&body, "updateStaffRole")[0]["code"], "OWN_ACCESS");
    let body = app
        .data(
            DELETE_ROLE,
            json!({ "id": accounts::domain::staff::ADMINISTRATOR_ROLE_ID }),
            Some(&token),
        )
        .await;
    assert_eq!(errors(&body, "deleteStaffRole")[0]["code"], "OWN_ACCESS");
    // Nothing changed.
    let store: &AccountsStore = &service.store;
    assert_eq!(
        store.permissions_of(&root).await.unwrap(),
        Permission::ALL.to_vec()
    );
    assert_eq!(
        store.staff_role(&helpers.id).await.unwrap().unwrap(),
        helpers
    );
    // Another manager may.
    let deputy_token = sign_in(&app, "deputy@example.com", "meadow-copper-82").await;
    let body = app
        .data(
            SET_ROLES,
            json!({ "user": root, "roles": [helpers.id] }),
            Some(&deputy_token),
        )
        .await;
    assert_eq!(errors(&body, "setStaffRoles"), json!([]));
    assert_eq!(
        store.permissions_of(&root).await.unwrap(),
        [Permission::ReviewsModerate]
    );
    let _ = deputy;
}

#[tokio::test]
async fn the_shop_keeps_an_active_staff_manager() {
    let app = spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_STAFF_MFA", "optional")).await;
    let service = &app.subgraph.service;
    let (only, _) = service
        .create_admin("root@example.com", "orchid-lantern-47", "Root")
        .await
        .unwrap();
    let token = sign_in(&app, "root@example.com", "orchid-lantern-47").await;

    // The only manager cannot disable itself.
    let body = app
        .data(
            SET_DISABLED,
            json!({ "id": only, "disabled": true }),
            Some(&token),
        )
        .await;
    assert_eq!(
        body["setUserDisabled"]["userErrors"][0]["code"],
        "LAST_STAFF_MANAGER"
    );
    assert!(service
        .user(&only)
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_none());

    // Two managers demoting each other at once: one wins, one manager is left.
    let (second, _) = service
        .create_admin("deputy@example.com", "meadow-copper-82", "Deputy")
        .await
        .unwrap();
    let (by_second, by_only) = (Auditor::staff(&second), Auditor::staff(&only));
    let (a, b) = tokio::join!(
        service.set_staff_roles(&by_second, &only, &[]),
        service.set_staff_roles(&by_only, &second, &[])
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    let mut managers = 0;
    for id in [&only, &second] {
        let permissions = service.store.permissions_of(id).await.unwrap();
        managers += usize::from(permissions.contains(&Permission::StaffManage));
    }
    assert_eq!(managers, 1);
}

/// A database from before staff roles: its admins hold the Administrator role, with every
/// permission, and are customers besides.
#[tokio::test]
async fn existing_admins_keep_every_permission() {
    static BEFORE_STAFF_ROLES: storage::migrations::Migrations = storage::migrations!(
        "../../migrations/accounts",
        [
            "0001_accounts.sql",
            "0002_api_clients.sql",
            "0003_partner_clients.sql",
            "0004_email_skeletons.sql",
            "0005_password_resets.sql",
        ]
    );
    for url in storage::db::testing::every_backend_url().await {
        let old = storage::db::Database::connect(&url, 2, &BEFORE_STAFF_ROLES)
            .await
            .unwrap();
        for (id, email, roles) in [
            ("user_admin", "admin@example.com", "customer admin"),
            ("user_shopper", "shopper@example.com", "customer"),
        ] {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, name, roles, created_at, \
                 updated_at) VALUES ($1, $2, 'hash', 'Someone', $3, 1, 1)",
            )
            .bind(id)
            .bind(email)
            .bind(roles)
            .execute(old.pool())
            .await
            .unwrap();
        }
        drop(old);
        let db = storage::db::Database::connect(&url, 2, &accounts::MIGRATIONS)
            .await
            .unwrap();
        let store = AccountsStore::new(db);
        assert_eq!(
            store.permissions_of("user_admin").await.unwrap(),
            Permission::ALL.to_vec(),
            "{url}"
        );
        assert_eq!(store.permissions_of("user_shopper").await.unwrap(), []);
        let users = store
            .users_by_ids(&["user_admin".into(), "user_shopper".into()])
            .await
            .unwrap();
        assert!(users.iter().all(|u| u.roles == "customer"), "{users:?}");
    }
}
