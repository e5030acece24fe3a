//! Staff permissions and the audit log. Every staff operation in the supergraph declares the one
//! permission it needs, the router refuses it without that permission, and so does its subgraph
//! when called directly; a staff member holding `orders:refund` but not `catalog:write` refunds
//! (the audit log shows who, how much and the trace) and cannot create a product; a permission
//! taken away stops working on the next request.

use apollo_compiler::ast::Value as Ast;
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{Node, Schema};
use auth::Permission;
use serde_json::json;

use crate::client::{answer, error_code, TestShop};
use crate::purchase::{address, checkout, fill_cart, stocked_product};

/// Mutations a customer (or a guest) makes for themself: they declare no permission. Any other
/// mutation the router serves must declare one.
const CUSTOMER_MUTATIONS: &[&str] = &[
    "register",
    "login",
    "refreshToken",
    "logout",
    "requestPasswordReset",
    "resetPassword",
    "verifyMfa",
    "requestEmailVerification",
    "changeEmail",
    "verifyEmail",
    "startTotp",
    "confirmTotp",
    "disableTotp",
    "changePassword",
    "revokeSession",
    "revokeAllSessions",
    "updateProfile",
    "addAddress",
    "updateAddress",
    "deleteAddress",
    "createGuestCart",
    "addCartLine",
    "updateCartLine",
    "removeCartLine",
    "clearCart",
    "mergeGuestCart",
    "updateNotificationPreferences",
    "checkout",
    "cancelOrder",
    "applyPromotionCode",
    "removePromotionCode",
    "writeReview",
    "editReview",
    "voteReviewHelpful",
    "reportReview",
];

fn supergraph() -> Schema {
    Schema::parse(shop::SUPERGRAPH, "supergraph.graphql").unwrap()
}

fn has(field: &FieldDefinition, directive: &str) -> bool {
    field.directives.iter().any(|d| d.name == directive)
}

/// The scope groups of a field's `@requiresScopes`.
fn required_scopes(field: &FieldDefinition) -> Option<Vec<Vec<String>>> {
    let directive = field
        .directives
        .iter()
        .find(|d| d.name == "requiresScopes")?;
    let groups = directive.specified_argument_by_name("scopes")?;
    Some(
        groups
            .as_list()
            .unwrap()
            .iter()
            .map(|group| {
                group
                    .as_list()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            })
            .collect(),
    )
}

/// The one permission a staff field declares (a single group of a single known scope).
fn declared_permission(type_name: &str, field: &FieldDefinition) -> Option<Permission> {
    let groups = required_scopes(field)?;
    let [group] = groups.as_slice() else {
        panic!(
            "{type_name}.{}: one group of scopes, not {groups:?}",
            field.name
        )
    };
    let [scope] = group.as_slice() else {
        panic!("{type_name}.{}: one permission, not {group:?}", field.name)
    };
    Some(Permission::parse(scope).unwrap_or_else(|| {
        panic!(
            "{type_name}.{}: {scope:?} is not a staff permission",
            field.name
        )
    }))
}

#[test]
fn every_staff_operation_declares_one_known_permission() {
    let schema = supergraph();
    let mutation = schema.get_object("Mutation").unwrap();
    let mut staff = 0;
    for field in mutation.fields.values() {
        let name = field.name.as_str();
        // Only other services call these; the router does not serve them.
        if has(field, "inaccessible") {
            continue;
        }
        if CUSTOMER_MUTATIONS.contains(&name) {
            assert!(
                required_scopes(field).is_none(),
                "{name} is a customer's and declares no permission"
            );
            continue;
        }
        assert!(
            declared_permission("Mutation", field).is_some(),
            "Mutation.{name} declares no permission: add `requires_scopes` with the staff \
             permission it needs (and the same check in its resolver), or list it among the \
             customers' mutations"
        );
        staff += 1;
    }
    assert!(staff >= 40, "{staff} staff mutations");
    // Every other field that requires scopes names a known permission too.
    for (type_name, ty) in &schema.types {
        if let ExtendedType::Object(object) = ty {
            for field in object.fields.values() {
                declared_permission(type_name, field);
            }
        }
    }
}

/// A literal for a required value of `ty` (the first enum value, an empty list, each required
/// input field), so the operation validates and reaches the resolver.
fn literal(schema: &Schema, ty: &apollo_compiler::ast::Type) -> String {
    if ty.is_list() {
        return "[]".into();
    }
    match schema.types.get(ty.inner_named_type()) {
        Some(ExtendedType::Enum(e)) => e.values.keys().next().unwrap().to_string(),
        Some(ExtendedType::InputObject(input)) => {
            let fields: Vec<String> = input
                .fields
                .values()
                .filter(|f| f.ty.is_non_null() && f.default_value.is_none())
                .map(|f| format!("{}: {}", f.name, literal(schema, &f.ty)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        _ => match ty.inner_named_type().as_str() {
            // Sent as the multipart request's file.
            "Upload" => "$file".into(),
            "Int" => "1".into(),
            "Float" => "1.5".into(),
            "Boolean" => "false".into(),
            _ => "\"x\"".into(),
        },
    }
}

/// `query|mutation { field(required args) { __typename } }` for a root field.
fn operation(schema: &Schema, kind: &str, field: &Node<FieldDefinition>) -> String {
    let args: Vec<String> = field
        .arguments
        .iter()
        .filter(|a| a.ty.is_non_null() && a.default_value.is_none())
        .map(|a| format!("{}: {}", a.name, literal(schema, &a.ty)))
        .collect();
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let selection = match schema.types.get(field.ty.inner_named_type()) {
        Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_)) => "",
        _ => " { __typename }",
    };
    let variables = if args.contains("$file") {
        "($file: Upload!)"
    } else {
        ""
    };
    format!("{kind}{variables} {{ {}{args}{selection} }}", field.name)
}

/// Posts `query` to `url` as JSON, or as a multipart request with a file when it takes one.
async fn post_to(shop: &TestShop, url: &str, query: &str, token: &str) -> (u16, serde_json::Value) {
    let request = if query.contains("$file") {
        let form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({ "query": query, "variables": { "file": null } }).to_string(),
            )
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("x.png"),
            );
        shop.as_router_to(url).multipart(form)
    } else {
        shop.as_router_to(url).json(&json!({ "query": query }))
    };
    answer(request, Some(token)).await
}

/// The subgraph that resolves a root field.
fn subgraph_of(field: &FieldDefinition) -> String {
    let join = field
        .directives
        .iter()
        .find(|d| d.name == "join__field")
        .unwrap_or_else(|| panic!("{} names its subgraph", field.name));
    match join.specified_argument_by_name("graph").map(|v| v.as_ref()) {
        Some(Ast::Enum(graph)) => graph.as_str().to_lowercase(),
        other => panic!("{}: graph {other:?}", field.name),
    }
}

#[tokio::test]
async fn every_staff_root_field_is_refused_without_its_permission_at_the_router_and_its_subgraph() {
    let shop = TestShop::start(1).await;
    let schema = supergraph();
    let accounts = shop.shop.subgraph::<accounts::Accounts>();
    let signer = accounts.service.signer();
    let mut checked = 0;
    for kind in ["query", "mutation"] {
        let root = schema
            .get_object(if kind == "query" { "Query" } else { "Mutation" })
            .unwrap();
        for field in root.fields.values() {
            if has(field, "inaccessible") {
                continue;
            }
            let Some(permission) = declared_permission(kind, field) else {
                continue;
            };
            // Every permission but the one it needs.
            let others: Vec<Permission> = Permission::ALL
                .into_iter()
                .filter(|p| *p != permission)
                .collect();
            let grants = accounts::domain::Grants::new(&[accounts::domain::Role::Customer], others);
            let token = signer
                .sign(
                    "user_staff_test",
                    &grants,
                    primitives::time::now_millis() / 1000,
                )
                .unwrap();
            let query = operation(&schema, kind, field);

            let (status, body) = post_to(&shop, &shop.shop.router_url(), &query, &token).await;
            assert_eq!(
                (status, error_code(&body)),
                (403, "FORBIDDEN"),
                "router: {query}: {body}"
            );
            let subgraph = subgraph_of(field);
            let url = format!("http://{}/graphql", shop.shop.address(&subgraph));
            let (_, body) = post_to(&shop, &url, &query, &token).await;
            assert_eq!(
                error_code(&body),
                "FORBIDDEN",
                "{subgraph} called directly: {query}: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked} staff fields");
}

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CREATE_ROLE: &str = "mutation($name: String!, $permissions: [Permission!]!) {
    createStaffRole(input: { name: $name, permissions: $permissions }) {
        role { id } userErrors { code } } }";
const SET_ROLES: &str = "mutation($user: ID!, $roles: [ID!]!) {
    setStaffRoles(input: { userId: $user, roleIds: $roles }) { userErrors { code } } }";
const REFUND: &str = "mutation($input: RefundPaymentInput!) { refundPayment(input: $input) {
    refund { amount { amount } } userErrors { code message } } }";
const CREATE_PRODUCT: &str = "mutation($input: CreateProductInput!) {
    createProduct(input: $input) { product { id } userErrors { code } } }";

#[tokio::test]
async fn a_refund_clerk_refunds_is_refused_creating_products_and_loses_a_permission_at_once() {
    let shop = TestShop::start(3).await;
    let admin = shop.admin_token().await;
    let role = shop
        .data(
            CREATE_ROLE,
            json!({ "name": "Refunds", "permissions": ["ORDERS_READ", "ORDERS_REFUND"] }),
            Some(&admin),
        )
        .await;
    let role_id = role["createStaffRole"]["role"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let clerk = shop
        .register("clerk@example.com", "copper-ledger-pass-7", "Clerk")
        .await;
    let clerk_id = clerk["user"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{clerk}"));
    let set = shop
        .data(
            SET_ROLES,
            json!({ "user": clerk_id, "roles": [role_id] }),
            Some(&admin),
        )
        .await;
    assert_eq!(set["setStaffRoles"]["userErrors"], json!([]));
    let clerk = shop
        .token("clerk@example.com", "copper-ledger-pass-7")
        .await;

    // A customer's paid order.
    let customer = shop.customer_token().await;
    let (product, _, _) = stocked_product(&shop, 5).await;
    // The admin restocks it (a change the audit trail records too).
    let warehouses = shop
        .data("{ warehouses { id } }", json!({}), Some(&admin))
        .await;
    let adjusted = shop
        .data(
            "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
            json!({ "input": { "productId": product, "warehouseId": warehouses["warehouses"][0]["id"],
                "kind": "RESTOCK", "quantity": 5, "reason": "delivery 17", "idempotencyKey": "restock-17" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(adjusted["adjustStock"]["userErrors"], json!([]));
    let cart = fill_cart(&shop, &customer, &product, 1).await;
    let placed = checkout(
        &shop,
        &customer,
        json!({ "cartId": cart, "shippingAddress": address(), "paymentToken": "tok_visa",
            "idempotencyKey": "clerk-refund" }),
    )
    .await;
    let payment = placed["order"]["payment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refund = |key: &str| {
        json!({ "input": { "paymentId": payment, "amount": "1.00", "reason": "dented",
            "idempotencyKey": key } })
    };

    // The refund, sent with a trace of the client's own.
    let audited = shop
        .shop
        .subgraph::<accounts::Accounts>()
        .service
        .audit_records();
    let records_before = *audited.borrow();
    let (_, answered) = answer(
        shop.http
            .post(shop.shop.router_url())
            .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
            .json(&json!({ "query": REFUND, "variables": refund("clerk-1") })),
        Some(&clerk),
    )
    .await;
    let refunded = &answered["data"];
    assert_eq!(
        refunded["refundPayment"]["userErrors"],
        json!([]),
        "{answered}"
    );
    assert_eq!(
        refunded["refundPayment"]["refund"]["amount"]["amount"],
        "1.00"
    );

    // The audit log shows the refund: who, with which permission, how much, and the trace.
    // Four changes so far: the role, the grant, the restock and the refund.
    let mut audited = audited;
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        audited.wait_for(|n| *n > records_before && *n >= 4),
    )
    .await
    .expect("the refund's audit record within 10 s")
    .unwrap();
    let log = shop
        .data(
            "{ auditLog(filter: { action: \"refundPayment\" }, first: 5) { edges { node {
                actorId actorKind permission entityType entityId after traceId source } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let entry = &log["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["actorId"], clerk_id, "{log}");
    assert_eq!(entry["actorKind"], "staff");
    assert_eq!(entry["permission"], "orders:refund");
    assert_eq!(entry["entityType"], "Refund");
    assert_eq!(entry["source"], "payments");
    assert_eq!(entry["traceId"], TRACE);
    let after: serde_json::Value = serde_json::from_str(entry["after"].as_str().unwrap()).unwrap();
    assert_eq!(
        (after["amount"].as_str(), after["paymentId"].as_str()),
        (Some("1.00"), Some(payment.as_str()))
    );
    // The restock that stocked the product, by the admin, with the stock before and after.
    let restock = shop
        .data(
            "{ auditLog(filter: { action: \"adjustStock\" }, first: 5) { edges { node {
                permission before after source } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let restock = &restock["auditLog"]["edges"][0]["node"];
    assert_eq!(
        (restock["permission"].as_str(), restock["source"].as_str()),
        (Some("inventory:write"), Some("inventory")),
        "{restock}"
    );
    let after: serde_json::Value =
        serde_json::from_str(restock["after"].as_str().unwrap()).unwrap();
    assert_eq!(after["delta"], 5, "{after}");
    // Refusals are not recorded (they are the router's and the subgraphs' logs' to tell).

    // No catalog:write: refused at the router, and at catalog when called directly.
    let (category, _) = shop.some_category_and_brand().await;
    let product_input = json!({ "input": { "sku": "CLERK-1", "name": "Clerk Lamp",
        "categoryId": category, "price": { "amount": "10.00", "currencyCode": "USD" } } });
    let (status, body) = shop
        .post(CREATE_PRODUCT, product_input.clone(), Some(&clerk))
        .await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{body}");
    let (_, body) = answer(
        shop.as_router("catalog")
            .json(&json!({ "query": CREATE_PRODUCT, "variables": product_input })),
        Some(&clerk),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(
        body["data"].is_null() || body["data"]["createProduct"].is_null(),
        "{body}"
    );

    // The role loses orders:refund: the clerk's token stops at the next request (no waiting
    // for it to expire), and a new one cannot refund.
    let applied = shop.router_revocations();
    let changed = shop
        .data(
            "mutation($id: ID!) { updateStaffRole(input: { id: $id, permissions: [ORDERS_READ] }) {
                userErrors { code } } }",
            json!({ "id": role_id }),
            Some(&admin),
        )
        .await;
    assert_eq!(changed["updateStaffRole"]["userErrors"], json!([]));
    shop.router_applied(applied + 1).await;
    let (status, body) = shop.post(REFUND, refund("clerk-2"), Some(&clerk)).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body}"
    );
    let clerk = shop
        .token("clerk@example.com", "copper-ledger-pass-7")
        .await;
    let (status, body) = shop.post(REFUND, refund("clerk-2"), Some(&clerk)).await;
    assert_eq!((status, error_code(&body)), (403, "FORBIDDEN"), "{body}");
    // What is left still works.
    let order = shop
        .data(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": placed["order"]["id"] }),
            Some(&clerk),
        )
        .await;
    assert_eq!(order["order"]["id"], placed["order"]["id"]);
}
