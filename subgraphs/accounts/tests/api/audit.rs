//! The audit log: a staff change is recorded (through the bus) with its actor, permission,
//! before and after, session and trace; searched, paged and exported; only staff managers read
//! it, nothing edits it, and a redelivered record is kept once.

use std::time::Duration;

use accounts::domain::audit::{AuditEntry, AuditFilter};
use accounts::Accounts;
use kit::pagination::PageRequest;
use kit::testing::{error_code, spawn_app_with, TestApp};
use serde_json::{json, Value};

use crate::abuse::sign_in;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CREATE_ROLE: &str = "mutation($name: String!) {
    createStaffRole(input: { name: $name, permissions: [REVIEWS_MODERATE] }) { role { id } } }";
const AUDIT_LOG: &str = "query($filter: AuditFilterInput, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
        edges { cursor node { actorId actorKind permission action entityType entityId before after
            client traceId source at } }
        pageInfo { hasNextPage endCursor } } }";

/// Posts with a `traceparent` naming trace [`TRACE`].
async fn traced(app: &TestApp<Accounts>, query: &str, variables: Value, token: &str) -> Value {
    app.http
        .post(app.url())
        .bearer_auth(token)
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the audit log holds `count` records in all.
async fn recorded(app: &TestApp<Accounts>, count: u64) {
    let mut records = app.subgraph.service.audit_records();
    tokio::time::timeout(Duration::from_secs(10), records.wait_for(|n| *n >= count))
        .await
        .expect("the audit records within 10 s")
        .unwrap();
}

#[tokio::test]
async fn staff_changes_are_recorded_searched_paged_and_exported() {
    let app = spawn_app_with::<Accounts>(|env| env.set("ACCOUNTS_STAFF_MFA", "optional")).await;
    let service = &app.subgraph.service;
    let (root, _) = service
        .create_admin("root@example.com", "orchid-lantern-47", "Root")
        .await
        .unwrap();
    let token = sign_in(&app, "root@example.com", "orchid-lantern-47").await;

    let first = traced(&app, CREATE_ROLE, json!({ "name": "Moderators" }), &token).await;
    let role = first["data"]["createStaffRole"]["role"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    app.data(CREATE_ROLE, json!({ "name": "Helpers" }), Some(&token))
        .await;
    recorded(&app, 2).await;

    // Newest first, one per page.
    let page = app
        .data(AUDIT_LOG, json!({ "first": 1 }), Some(&token))
        .await["auditLog"]
        .clone();
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        page["edges"][0]["node"]["after"],
        json!({ "name": "Helpers", "permissions": "reviews:moderate" }).to_string()
    );
    let next = app
        .data(
            AUDIT_LOG,
            json!({ "first": 1, "after": page["pageInfo"]["endCursor"] }),
            Some(&token),
        )
        .await["auditLog"]
        .clone();
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
    let node = &next["edges"][0]["node"];
    assert_eq!(node["actorId"], root);
    assert_eq!(node["actorKind"], "staff");
    assert_eq!(node["permission"], "staff:manage");
    assert_eq!(node["action"], "createStaffRole");
    assert_eq!(
        (node["entityType"].as_str(), node["entityId"].as_str()),
        (Some("StaffRole"), Some(role.as_str()))
    );
    assert_eq!(node["before"], Value::Null);
    assert_eq!(node["traceId"], TRACE);
    assert_eq!(node["source"], "accounts");
    assert!(
        node["client"].as_str().unwrap().starts_with("session fam_"),
        "{node}"
    );

    // Filters.
    let count = |filter: Value| {
        let app = &app;
        let token = &token;
        async move {
            app.data(
                AUDIT_LOG,
                json!({ "filter": filter, "first": 50 }),
                Some(token),
            )
            .await["auditLog"]["edges"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count(json!({ "actorId": root })).await, 2);
    assert_eq!(count(json!({ "actorId": "user_nobody" })).await, 0);
    assert_eq!(
        count(json!({ "entityType": "StaffRole", "entityId": role })).await,
        1
    );
    assert_eq!(count(json!({ "action": "deleteStaffRole" })).await, 0);
    assert_eq!(count(json!({ "from": node["at"] })).await, 2);
    assert_eq!(count(json!({ "until": node["at"] })).await, 0);
    let bad = app
        .graphql(
            AUDIT_LOG,
            json!({ "filter": { "from": "yesterday" } }),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");

    // The export: one JSON object per line, newest first.
    let export = app
        .data(
            "{ auditLogExport { jsonLines count truncated } }",
            json!({}),
            Some(&token),
        )
        .await["auditLogExport"]
        .clone();
    assert_eq!(
        (export["count"].as_i64(), export["truncated"].as_bool()),
        (Some(2), Some(false))
    );
    let export = export["jsonLines"].as_str().unwrap().to_string();
    let lines: Vec<Value> = export
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["traceId"], TRACE);
    assert_eq!(lines[1]["after"]["name"], "Moderators");

    // Only staff managers read it.
    let customer = service
        .register(
            "shopper@example.com",
            "a-fine-password-1",
            "Shopper",
            "127.0.0.1",
        )
        .await
        .unwrap()
        .access_token;
    let refused = app.graphql(AUDIT_LOG, json!({}), Some(&customer)).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    // Nothing in the API changes a record.
    let sdl = <Accounts as kit::Subgraph>::sdl();
    let mutations = &sdl[sdl.find("type Mutation").unwrap()..];
    let mutations = &mutations[..mutations.find("\n}").unwrap()];
    assert!(!mutations.to_lowercase().contains("audit"), "{mutations}");
}

#[tokio::test]
async fn a_record_is_kept_once_and_forgotten_after_its_retention() {
    for db in storage::db::testing::every_backend(&accounts::MIGRATIONS).await {
        let store = accounts::store::AccountsStore::new(db);
        let entry = |id: &str, at: i64| AuditEntry {
            id: id.into(),
            at,
            actor_id: "user_1".into(),
            actor_kind: "staff".into(),
            permission: Some("orders:refund".into()),
            action: "refundPayment".into(),
            entity_type: "Refund".into(),
            entity_id: "re_1".into(),
            before: None,
            after: Some(json!({ "amount": "1.00" })),
            client_address: Some("203.0.113.7".into()),
            client: None,
            trace_id: Some(TRACE.into()),
            source: "payments".into(),
        };
        assert!(store.record_audit(&entry("aud_1", 1_000)).await.unwrap());
        assert!(!store.record_audit(&entry("aud_1", 1_000)).await.unwrap());
        assert!(store.record_audit(&entry("aud_2", 5_000)).await.unwrap());
        let all = PageRequest {
            cursor: None,
            limit: 10,
            backward: false,
        };
        let rows = store
            .audit_entries(&AuditFilter::default(), &all)
            .await
            .unwrap();
        assert_eq!(rows, vec![entry("aud_2", 5_000), entry("aud_1", 1_000)]);
        assert_eq!(store.forget_audit_before(2_000).await.unwrap(), 1);
        let rows = store
            .audit_entries(&AuditFilter::default(), &all)
            .await
            .unwrap();
        assert_eq!(rows, vec![entry("aud_2", 5_000)]);
    }
}
