//! Notifications tests: the subgraph alone (`spawn_app`, PostgreSQL) sending to a real SMTP
//! server started by the test (`notifications::testing::SmtpSink`); events handed to its consumer
//! as the bus would, twice where it matters.

use std::time::Duration;

use event_bus::consumer::Handler;
use event_bus::Event;
use kit::testing::{error_code, spawn_app_with, TestApp};
use notifications::consumers::Inbox;
use notifications::testing::SmtpSink;
use notifications::Notifications;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

async fn start(sink: &SmtpSink, max_attempts: u32) -> TestApp<Notifications> {
    start_on(sink, max_attempts, false).await
}

/// The subgraph on PostgreSQL, or on SQLite (the embedded shop's database) when `sqlite`.
async fn start_on(sink: &SmtpSink, max_attempts: u32, sqlite: bool) -> TestApp<Notifications> {
    let url = sink.url();
    spawn_app_with::<Notifications>(move |env| {
        let env = env
            .set("NOTIFICATIONS_SMTP_URL", url)
            .set("NOTIFICATIONS_RETRY_BASE_MS", "20")
            .set("NOTIFICATIONS_MAX_ATTEMPTS", max_attempts.to_string())
            .set("NOTIFICATIONS_ADMIN_EMAILS", "ops@example.com");
        if sqlite {
            env.set(
                "NOTIFICATIONS_DATABASE_URL",
                storage::db::testing::sqlite_url(),
            )
        } else {
            env
        }
    })
    .await
}

/// An event of `topic` with `payload`, as its publisher would make it.
fn event(topic: &str, aggregate: &str, payload: Value) -> Event {
    Event {
        id: primitives::id::new_id("evt"),
        topic: topic.into(),
        source: "test".into(),
        time: primitives::time::now_millis(),
        aggregate_id: aggregate.into(),
        version: 1,
        payload,
        traceparent: None,
    }
}

async fn deliver(app: &TestApp<Notifications>, event: &Event) {
    Inbox(app.subgraph.service.clone())
        .handle(event)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", event.topic));
}

fn order(topic: &str, order_id: &str, extra: Value) -> Event {
    let mut payload = json!({ "orderId": order_id, "number": "SO-261201-AAAA0001",
        "customerId": "usr_ada", "email": "ada@example.com", "totalMinor": 4200, "currency": "USD",
        "lines": [{ "productId": "prod_lamp", "quantity": 1 }],
        "shippingAddress": { "fullName": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield",
            "region": "IL", "postalCode": "62701", "countryCode": "US" },
        "shippingMethod": { "carrier": "ups", "service": "ground" } });
    payload
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    event(topic, order_id, payload)
}

fn shipment(status: &str) -> Event {
    event(
        "shipment.updated",
        "shp_1",
        json!({ "shipmentId": "shp_1", "orderId": "ord_1", "orderNumber": "SO-261201-AAAA0001",
            "customerId": "usr_ada", "email": "ada@example.com", "carrier": "ups",
            "trackingNumber": "1Z999AA10123456784",
            "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            "status": status, "previousStatus": null, "description": "On its way <fast>",
            "lines": [], "orderDelivered": status == "delivered" }),
    )
}

fn subjects(mails: &[notifications::testing::ReceivedMail]) -> Vec<String> {
    let mut subjects: Vec<String> = mails.iter().map(|m| m.header("Subject").unwrap()).collect();
    subjects.sort();
    subjects
}

async fn notifications_of(app: &TestApp<Notifications>, user: &str, token: &str) -> Value {
    app.graphql(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User {
            notifications(first: 50) { edges { node { kind status subject attempts } } } } } }",
        json!({ "r": [{ "__typename": "User", "id": user }] }),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn each_fact_sends_one_email_even_when_its_event_arrives_twice() {
    let sink = SmtpSink::start().await;
    one_email_per_fact(&sink, start(&sink, 5).await).await;
}

#[tokio::test]
async fn the_same_on_sqlite() {
    let sink = SmtpSink::start().await;
    one_email_per_fact(&sink, start_on(&sink, 5, true).await).await;
    let sink = SmtpSink::start().await;
    retried_then_failed(&sink, start_on(&sink, 3, true).await).await;
}

async fn one_email_per_fact(sink: &SmtpSink, app: TestApp<Notifications>) {
    let registered = event(
        "user.registered",
        "usr_ada",
        json!({ "userId": "usr_ada", "email": "ada@example.com", "name": "Ada <Lovelace>" }),
    );
    // 6.25% of tax (2.47) and 4.20 off in a 42.00 order.
    let placed = order(
        "order.placed",
        "ord_1",
        json!({ "discountMinor": 420, "taxMinor": 247,
            "taxLines": [{ "name": "IL sales tax", "ratePpm": 62500, "taxMinor": 247 }] }),
    );
    let paid = order("order.paid", "ord_1", json!({}));
    // The same fact published twice (two event ids) and each event delivered twice.
    let paid_again = order("order.paid", "ord_1", json!({}));
    let delivered = order(
        "order.status_changed",
        "ord_1",
        json!({ "status": "delivered", "previousStatus": "fulfilled" }),
    );
    let refund = |minor: i64| {
        event(
            "payment.updated",
            "pay_1",
            json!({ "paymentId": "pay_1", "orderId": "ord_1",
        "status": "partially_refunded", "capturedMinor": 4200, "refundedMinor": minor, "currency": "USD" }),
        )
    };
    let events = [
        registered.clone(),
        registered,
        placed,
        paid.clone(),
        paid,
        paid_again,
        shipment("label_created"),
        shipment("label_created"),
        shipment("delivered"),
        delivered.clone(),
        delivered,
        refund(1000),
        refund(1000),
        refund(1500),
        event(
            "inventory.stock_low",
            "prod_lamp",
            json!({ "productId": "prod_lamp", "available": 2, "threshold": 5 }),
        ),
    ];
    for event in &events {
        deliver(&app, event).await;
    }
    outcomes(&app, 9).await;
    let mails = sink.received();
    assert_eq!(
        subjects(&mails),
        [
            "How do you like your order SO-261201-AAAA0001?",
            "Low stock: prod_lamp",
            "Order SO-261201-AAAA0001 confirmed",
            "Order SO-261201-AAAA0001 has shipped",
            "Order SO-261201-AAAA0001 was delivered",
            "Refund for order SO-261201-AAAA0001",
            "Refund for order SO-261201-AAAA0001",
            "We received your order SO-261201-AAAA0001",
            "Welcome to the Shop, Ada <Lovelace>",
        ]
    );
    // Nothing else is queued: every recorded message is sent.
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM notifications")
        .fetch_all(app.database.pool())
        .await
        .unwrap();
    assert_eq!(statuses.len(), 9);
    assert!(statuses.iter().all(|s| s == "sent"), "{statuses:?}");
    assert_eq!(sink.received().len(), 9);

    let shipped = mails
        .iter()
        .find(|m| m.header("Subject").unwrap().contains("shipped"))
        .unwrap();
    assert_eq!(shipped.to, ["ada@example.com"]);
    assert_eq!(shipped.from, "shop@example.com");
    assert!(shipped.header("Message-ID").unwrap().starts_with("<ntf_"));
    assert!(shipped.data.contains("multipart/alternative"));
    assert!(shipped.data.contains("UPS 1Z999AA10123456784"));
    // Each refund email gives the tax in what was refunded so far (10.00, then 15.00, of
    // 42.00: 0.59 and 0.88 of the 2.47), and the order's discounts.
    let refunds: Vec<&str> = mails
        .iter()
        .filter(|m| m.header("Subject").unwrap().starts_with("Refund"))
        .map(|m| m.data.as_str())
        .collect();
    for tax in ["0.59 USD", "0.88 USD"] {
        let line = format!("Of it, IL sales tax (6.25%): {tax}");
        assert!(
            refunds.iter().any(|m| m.contains(&line)),
            "{line} in {refunds:#?}"
        );
    }
    assert!(refunds
        .iter()
        .all(|m| m.contains("The order's discounts: -4.20 USD")));
    // The HTML part escapes what it inserts: the name from registration.
    let welcome = mails
        .iter()
        .find(|m| m.header("Subject").unwrap().starts_with("Welcome"))
        .unwrap();
    assert!(
        welcome.data.contains("Hello Ada <Lovelace>,"),
        "the text part as written"
    );
    assert!(
        welcome.data.contains("Hello Ada &lt;Lovelace&gt;,"),
        "the HTML part escaped"
    );
    let low = mails
        .iter()
        .find(|m| m.header("Subject").unwrap().starts_with("Low stock"))
        .unwrap();
    assert_eq!(low.to, ["ops@example.com"]);

    // What was sent to Ada, for Ada; not for Bob.
    let ada = app.tokens.customer("usr_ada");
    let mine = notifications_of(&app, "usr_ada", &ada).await;
    let edges = mine["data"]["_entities"][0]["notifications"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 8, "{mine:#}");
    assert!(edges
        .iter()
        .all(|e| e["node"]["status"] == "SENT" && e["node"]["attempts"] == 1));
    let bob = app.tokens.customer("usr_bob");
    assert_eq!(
        error_code(&notifications_of(&app, "usr_ada", &bob).await),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn marketing_can_be_turned_off_but_order_emails_cannot() {
    let sink = SmtpSink::start().await;
    let app = start(&sink, 5).await;
    let ada = app.tokens.customer("usr_ada");
    let update = |input: Value| {
        let app = &app;
        let ada = ada.clone();
        async move {
            app.data(
                "mutation($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) {
                    preferences { language marketing } userErrors { field code } } }",
                json!({ "input": input }),
                Some(&ada),
            )
            .await["updateNotificationPreferences"]
                .clone()
        }
    };
    let off = update(json!({ "marketing": false })).await;
    assert_eq!(
        off["preferences"],
        json!({ "language": "en", "marketing": false })
    );
    let bad = update(json!({ "language": "english" })).await;
    assert_eq!(bad["userErrors"][0]["code"], "INVALID_INPUT");

    deliver(
        &app,
        &order(
            "order.status_changed",
            "ord_1",
            json!({ "status": "delivered", "previousStatus": "fulfilled" }),
        ),
    )
    .await;
    deliver(&app, &order("order.paid", "ord_1", json!({}))).await;
    outcomes(&app, 1).await;
    assert_eq!(
        subjects(&sink.received()),
        ["Order SO-261201-AAAA0001 confirmed"]
    );
    let skipped: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, status FROM notifications ORDER BY kind")
            .fetch_all(app.database.pool())
            .await
            .unwrap();
    assert_eq!(
        skipped,
        [
            ("order_paid".into(), "sent".into()),
            ("review_request".into(), "skipped".into())
        ]
    );
}

#[tokio::test]
async fn refused_sends_are_retried_then_marked_failed_and_an_admin_sends_them_again() {
    let sink = SmtpSink::start().await;
    retried_then_failed(&sink, start(&sink, 3).await).await;
}

async fn retried_then_failed(sink: &SmtpSink, app: TestApp<Notifications>) {
    // Two refusals, then accepted on the third attempt.
    sink.refuse_next(2);
    deliver(&app, &order("order.paid", "ord_1", json!({}))).await;
    outcomes(&app, 3).await;
    assert_eq!(sink.received().len(), 1);
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM notifications")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 3);

    // Three refusals: failed after the last attempt, visible to admins with the reason.
    sink.refuse_next(3);
    deliver(&app, &order("order.paid", "ord_2", json!({}))).await;
    let admin = app.tokens.admin("usr_admin");
    outcomes(&app, 6).await;
    let failed = app
        .data(
            "{ notifications(status: FAILED, first: 5) { edges { node { id attempts lastError } } } }",
            json!({}),
            Some(&admin),
        )
        .await["notifications"]["edges"][0]["node"]
        .clone();
    assert_eq!(failed["attempts"], 3);
    assert!(
        failed["lastError"].as_str().unwrap().contains("451"),
        "{failed}"
    );
    assert_eq!(sink.received().len(), 1);

    let customer = app.tokens.customer("usr_ada");
    let body = app
        .graphql(
            "{ notifications(status: FAILED, first: 5) { edges { node { id } } } }",
            json!({}),
            Some(&customer),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let retried = app
        .data(
            "mutation($input: RetryNotificationInput!) { retryNotification(input: $input) {
                notification { status attempts } userErrors { code } } }",
            json!({ "input": { "id": failed["id"] } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        retried["retryNotification"]["notification"]["status"],
        "PENDING"
    );
    outcomes(&app, 7).await;
    assert_eq!(sink.received().len(), 2);
    let again = app
        .data(
            "mutation($input: RetryNotificationInput!) { retryNotification(input: $input) { userErrors { code } } }",
            json!({ "input": { "id": failed["id"] } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        again["retryNotification"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
}

/// Waits until `n` send attempts have their outcome recorded.
async fn outcomes(app: &TestApp<Notifications>, n: u64) {
    let mut outcomes = app.subgraph.service.outcomes();
    tokio::time::timeout(WAIT, outcomes.wait_for(|c| *c >= n))
        .await
        .unwrap_or_else(|_| panic!("{n} send outcomes within 20 s"))
        .unwrap();
}

#[tokio::test]
async fn admins_edit_templates_per_language_and_broken_ones_are_refused() {
    let sink = SmtpSink::start().await;
    let app = start(&sink, 5).await;
    let admin = app.tokens.admin("usr_admin");
    let set = |input: Value, token: String| {
        let app = &app;
        async move {
            app.graphql(
                "mutation($input: NotificationTemplateInput!) { setNotificationTemplate(input: $input) {
                    template { kind language subject placeholders } userErrors { field code message } } }",
                json!({ "input": input }),
                Some(&token),
            )
            .await
        }
    };
    let german = json!({ "kind": "ORDER_PAID", "language": "DE", "subject": "Bestellung {{ number }} bestätigt",
        "text": "Hallo {{ name }}, danke! {{ total }}", "html": "<p>Hallo {{ name }}</p>" });
    let typo = json!({ "kind": "ORDER_PAID", "language": "de", "subject": "Bestellung {{ nummer }}",
        "text": "x", "html": "x" });
    let refused = set(typo, admin.clone()).await;
    let error = &refused["data"]["setNotificationTemplate"]["userErrors"][0];
    assert_eq!(
        (error["code"].as_str(), &error["field"]),
        (Some("INVALID_TEMPLATE"), &json!(["input", "subject"]))
    );
    let broken = json!({ "kind": "ORDER_PAID", "language": "de", "subject": "x", "text": "{% if %}", "html": "x" });
    assert_eq!(
        set(broken, admin.clone()).await["data"]["setNotificationTemplate"]["userErrors"][0]
            ["field"],
        json!(["input", "text"])
    );
    let customer = app.tokens.customer("usr_ada");
    assert_eq!(
        error_code(&set(german.clone(), customer.clone()).await),
        "FORBIDDEN"
    );
    let stored = set(german, admin.clone()).await;
    let template = &stored["data"]["setNotificationTemplate"]["template"];
    assert_eq!(template["language"], "de", "{stored:#}");
    assert!(template["placeholders"]
        .as_array()
        .unwrap()
        .contains(&json!("total")));

    // Ada reads German; Bob keeps the built-in English.
    app.data(
        "mutation { updateNotificationPreferences(input: { language: \"de\" }) { userErrors { code } } }",
        json!({}),
        Some(&customer),
    )
    .await;
    deliver(&app, &order("order.paid", "ord_1", json!({}))).await;
    let mut bobs = order(
        "order.paid",
        "ord_2",
        json!({ "customerId": "usr_bob", "email": "bob@example.com" }),
    );
    bobs.payload["number"] = json!("SO-261201-BBBB0002");
    deliver(&app, &bobs).await;
    outcomes(&app, 2).await;
    // As sent: the German subject as a MIME encoded word; as recorded: readable.
    let mails = sink.received();
    assert!(subjects(&mails)[0].starts_with("Bestellung SO-261201-AAAA0001 =?utf-8?"));
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT subject FROM notifications ORDER BY subject")
            .fetch_all(app.database.pool())
            .await
            .unwrap();
    assert_eq!(
        recorded,
        [
            "Bestellung SO-261201-AAAA0001 bestätigt",
            "Order SO-261201-BBBB0002 confirmed"
        ]
    );
}

#[tokio::test]
async fn without_smtp_the_embedded_shop_writes_each_email_to_the_data_directory() {
    let app = spawn_app_with::<Notifications>(|env| env).await;
    deliver(&app, &order("order.paid", "ord_1", json!({}))).await;
    outcomes(&app, 1).await;
    let status: String = sqlx::query_scalar("SELECT status FROM notifications")
        .fetch_one(app.database.pool())
        .await
        .unwrap();
    assert_eq!(status, "sent");
    let dir = app.settings.common.data_dir.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(
        text.contains("Subject: Order SO-261201-AAAA0001 confirmed"),
        "{text}"
    );
    assert!(text.contains("To: ada@example.com"));
}
