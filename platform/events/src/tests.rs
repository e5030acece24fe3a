//! The contract's compatibility rule, checked for every topic (see the crate's docs).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::accounts::{PasswordResetRequested, UserAccessChanged, UserRegistered};
use crate::catalog::ProductChanged;
use crate::common::{Line, PostalAddress};
use crate::inventory::StockLow;
use crate::orders::{
    OrderClosed, OrderFacts, OrderPaid, OrderPlaced, OrderStatusChanged, ReconciliationNeeded,
    ShippingMethod,
};
use crate::payments::PaymentUpdated;
use crate::shipping::ShipmentUpdated;
use crate::{Fact, TOPICS};

/// The published sample of `F`'s topic and version.
fn sample<F: Fact>() -> Value {
    let path = format!(
        "{}/samples/{}.v{}.json",
        env!("CARGO_MANIFEST_DIR"),
        F::TOPIC,
        F::VERSION
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: every topic version has a sample ({e})"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Where `produced` lacks a field of `published` or gives one another JSON type: what a
/// consumer built on `published` could not decode. A `null` in `published` is an optional
/// field: it may be absent or of any type.
fn incompatibilities(published: &Value, produced: &Value, path: &str) -> Vec<String> {
    match (published, produced) {
        (Value::Null, _) => Vec::new(),
        (Value::Object(fields), Value::Object(produced_fields)) => fields
            .iter()
            .flat_map(|(name, value)| {
                let path = format!("{path}.{name}");
                match produced_fields.get(name) {
                    Some(produced) => incompatibilities(value, produced, &path),
                    None if value.is_null() => Vec::new(),
                    None => vec![format!("{path} is missing")],
                }
            })
            .collect(),
        (Value::Array(items), Value::Array(produced_items)) => {
            match (items.first(), produced_items.first()) {
                (Some(item), Some(produced)) => {
                    incompatibilities(item, produced, &format!("{path}[0]"))
                }
                _ => Vec::new(),
            }
        }
        (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) => Vec::new(),
        (Value::Number(a), Value::Number(b)) if a.is_i64() == b.is_i64() => Vec::new(),
        _ => vec![format!("{path} was {published}, is now {produced}")],
    }
}

/// Checks one topic: its sample decodes with today's type, and `produced` (a payload as
/// today's producer writes it) carries everything the sample has.
fn check<F: Fact + Serialize + DeserializeOwned>(produced: F) -> Vec<String> {
    let published = sample::<F>();
    let topic = format!("{} v{}", F::TOPIC, F::VERSION);
    let mut problems = Vec::new();
    if let Err(error) = serde_json::from_value::<F>(published.clone()) {
        problems.push(format!(
            "{topic}: its published sample no longer decodes: {error}"
        ));
    }
    let produced = serde_json::to_value(&produced).expect("payloads serialize");
    problems.extend(
        incompatibilities(&published, &produced, "")
            .into_iter()
            .map(|problem| format!("{topic}: payload{problem}")),
    );
    problems
}

fn address() -> PostalAddress {
    PostalAddress {
        full_name: "Ada Lovelace".into(),
        line1: "1 Market St".into(),
        line2: None,
        city: "San Francisco".into(),
        region: Some("CA".into()),
        postal_code: "94105".into(),
        country_code: "US".into(),
        phone: None,
    }
}

fn line() -> Line {
    Line {
        product_id: "prod_1".into(),
        variant_id: Some("var_prod_1".into()),
        quantity: 2,
    }
}

fn order_facts() -> OrderFacts {
    OrderFacts {
        order_id: "ord_1".into(),
        number: "SHOP-1".into(),
        customer_id: "usr_1".into(),
        email: "ada@example.com".into(),
        total_minor: 4200,
        currency: "USD".into(),
        lines: vec![line()],
        shipping_address: address(),
        shipping_method: Some(ShippingMethod {
            carrier: "ups".into(),
            service: "ground".into(),
        }),
        discount_minor: 0,
        tax_minor: 0,
        prices_include_tax: false,
        tax_lines: Vec::new(),
    }
}

/// Every topic's check, with a payload as its producer writes it.
fn every_check() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            UserRegistered::TOPIC,
            check(UserRegistered {
                user_id: "usr_1".into(),
                email: "ada@example.com".into(),
                name: "Ada".into(),
            }),
        ),
        (
            UserAccessChanged::TOPIC,
            check(UserAccessChanged {
                user_id: "usr_1".into(),
                disabled: true,
                roles: vec!["customer".into()],
                changed_at: 1_700_000_000_000,
                session_id: None,
            }),
        ),
        (
            PasswordResetRequested::TOPIC,
            check(PasswordResetRequested {
                user_id: "usr_1".into(),
                email: "ada@example.com".into(),
                name: "Ada".into(),
                token: "prt_secret".into(),
                expires_at: 1_700_000_000_000,
            }),
        ),
        (
            crate::audit::AuditRecorded::TOPIC,
            check(crate::audit::AuditRecorded {
                id: "aud_1".into(),
                actor_id: "usr_1".into(),
                actor_kind: "staff".into(),
                permission: Some("orders:refund".into()),
                action: "refundPayment".into(),
                entity_type: "Refund".into(),
                entity_id: "re_1".into(),
                before: None,
                after: Some(serde_json::json!({ "paymentId": "pay_1", "amount": "1.00",
                    "currency": "USD", "reason": "dented" })),
                client_address: Some("203.0.113.7".into()),
                client: Some("session fam_1".into()),
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
                at: 1_700_000_000_000,
            }),
        ),
        (
            crate::accounts::EmailVerificationRequested::TOPIC,
            check(crate::accounts::EmailVerificationRequested {
                user_id: "usr_1".into(),
                email: "ada@example.com".into(),
                name: "Ada".into(),
                token: "evt_secret".into(),
                expires_at: 1_700_000_000_000,
                change: false,
            }),
        ),
        (
            crate::accounts::EmailVerified::TOPIC,
            check(crate::accounts::EmailVerified {
                user_id: "usr_1".into(),
                email: "ada@example.com".into(),
            }),
        ),
        (
            crate::accounts::EmailChanged::TOPIC,
            check(crate::accounts::EmailChanged {
                user_id: "usr_1".into(),
                old_email: "ada@example.com".into(),
                new_email: "ada@example.org".into(),
                name: "Ada".into(),
            }),
        ),
        (
            ProductChanged::TOPIC,
            check(ProductChanged {
                product_id: "prod_1".into(),
                status: "ACTIVE".into(),
            }),
        ),
        (
            StockLow::TOPIC,
            check(StockLow {
                product_id: "prod_1".into(),
                variant_id: Some("var_prod_1".into()),
                available: 2,
                threshold: 5,
            }),
        ),
        (OrderPlaced::TOPIC, check(OrderPlaced(order_facts()))),
        (OrderPaid::TOPIC, check(OrderPaid(order_facts()))),
        (
            OrderClosed::TOPIC,
            check(OrderClosed {
                order_id: "ord_1".into(),
                number: "SHOP-1".into(),
                customer_id: "usr_1".into(),
                email: "ada@example.com".into(),
                status: "cancelled".into(),
                reason: "the customer cancelled".into(),
            }),
        ),
        (
            OrderStatusChanged::TOPIC,
            check(OrderStatusChanged {
                order_id: "ord_1".into(),
                number: "SHOP-1".into(),
                customer_id: "usr_1".into(),
                email: "ada@example.com".into(),
                status: "fulfilled".into(),
                previous_status: "paid".into(),
            }),
        ),
        (
            ReconciliationNeeded::TOPIC,
            check(ReconciliationNeeded {
                digest: "ab12".into(),
                findings: vec!["charge ch_1 has no order".into()],
            }),
        ),
        (
            PaymentUpdated::TOPIC,
            check(PaymentUpdated {
                payment_id: "pay_1".into(),
                order_id: "ord_1".into(),
                status: "captured".into(),
                captured_minor: 4200,
                refunded_minor: 0,
                currency: "USD".into(),
            }),
        ),
        (
            ShipmentUpdated::TOPIC,
            check(ShipmentUpdated {
                shipment_id: "shp_1".into(),
                order_id: "ord_1".into(),
                order_number: "SHOP-1".into(),
                customer_id: "usr_1".into(),
                email: "ada@example.com".into(),
                carrier: "ups".into(),
                tracking_number: "1Z999".into(),
                tracking_url: Some("https://track.example/1Z999".into()),
                status: "in_transit".into(),
                previous_status: Some("label_created".into()),
                description: "On its way".into(),
                lines: vec![line()],
                order_delivered: false,
            }),
        ),
    ]
}

#[test]
fn every_topic_keeps_its_published_payload() {
    let checks = every_check();
    let problems: Vec<String> = checks.iter().flat_map(|(_, p)| p.clone()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    // Every topic of the contract is checked, and every sample belongs to a topic.
    let checked: Vec<&str> = checks.iter().map(|(topic, _)| *topic).collect();
    for topic in TOPICS {
        assert!(
            checked.contains(&topic.name),
            "{} is not checked",
            topic.name
        );
    }
    let samples_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
    for entry in std::fs::read_dir(samples_dir).expect("the samples directory") {
        let name = entry
            .expect("an entry")
            .file_name()
            .into_string()
            .expect("UTF-8");
        assert!(
            TOPICS
                .iter()
                .any(|t| name.starts_with(&format!("{}.v", t.name))),
            "{name} is a sample of no topic"
        );
    }
}

#[test]
fn each_topic_is_declared_once() {
    let mut names: Vec<&str> = TOPICS.iter().map(|t| t.name).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "a topic is declared twice");
}

#[test]
fn a_breaking_change_is_caught() {
    let published = json!({"orderId": "ord_1", "totalMinor": 4200, "lines": [{"quantity": 1}],
        "note": null});
    // A removed field, a changed type (also inside a list): a consumer on v1 cannot decode.
    let produced = json!({"totalMinor": "42.00", "lines": [{"quantity": "1"}]});
    let mut found = incompatibilities(&published, &produced, "");
    found.sort();
    assert_eq!(
        found,
        vec![
            ".lines[0].quantity was 1, is now \"1\"".to_string(),
            ".orderId is missing".to_string(),
            ".totalMinor was 4200, is now \"42.00\"".to_string(),
        ]
    );
    // A new optional field, an absent optional one, extra fields: compatible.
    let grown = json!({"orderId": "ord_2", "totalMinor": 1, "lines": [{"quantity": 3}],
        "giftWrap": true});
    assert!(incompatibilities(&published, &grown, "").is_empty());
}

#[test]
fn a_new_required_field_cannot_read_what_was_published() {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct ProductChangedWithAPrice {
        product_id: String,
        status: String,
        price_minor: i64,
    }
    let published = sample::<ProductChanged>();
    assert!(serde_json::from_value::<ProductChangedWithAPrice>(published).is_err());
}
