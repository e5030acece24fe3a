//! Provider events applied to payments on both databases: each event once however often it is
//! delivered (also concurrently), in any order, and an event for a payment not recorded yet left
//! for its redelivery.

use std::sync::Arc;

use payments::domain::PaymentStatus;
use payments::provider::{EventKind, ProviderEvent, Refund};
use payments::store::{Applied, Payment, PaymentStore};
use storage::db::testing::every_backend;

fn payment(charge: &str) -> Payment {
    Payment {
        id: primitives::id::new_id("pay"),
        order_id: primitives::id::new_id("ord"),
        amount_minor: 10_000,
        currency: commerce::money::CurrencyCode::Usd,
        provider_charge: charge.into(),
        method_brand: "visa".into(),
        method_last4: "4242".into(),
        captured_minor: 0,
        refunded_minor: 0,
        failure_code: None,
        status: PaymentStatus::Authorized,
        customer_id: "usr_1".into(),
        created_at: primitives::time::now_millis(),
        action_url: None,
    }
}

fn event(
    id: &str,
    kind: EventKind,
    charge: &str,
    sequence: u64,
    amount_minor: i64,
) -> ProviderEvent {
    ProviderEvent {
        id: id.into(),
        kind,
        created: 0,
        charge: charge.into(),
        sequence,
        amount_minor,
        currency: "USD".into(),
        failure_code: None,
        refund: (kind == EventKind::RefundSucceeded).then(|| Refund {
            id: format!("re_{id}"),
            charge: charge.into(),
            amount_minor,
            reference: None,
        }),
    }
}

#[tokio::test]
async fn each_event_changes_the_payment_once_in_any_order_however_often_it_arrives() {
    for db in every_backend(&payments::MIGRATIONS).await {
        let backend = db.backend();
        let store = Arc::new(PaymentStore::new(db));
        let paid = payment("ch_1");
        store.insert(&paid).await.unwrap();
        // Refunds reported before the capture, every event five times, all at once.
        let events = [
            event("evt_r2", EventKind::RefundSucceeded, "ch_1", 3, 6_000),
            event("evt_r1", EventKind::RefundSucceeded, "ch_1", 2, 4_000),
            event("evt_c", EventKind::ChargeSucceeded, "ch_1", 1, 10_000),
        ];
        let deliveries: Vec<_> = (0..5)
            .flat_map(|_| events.iter().cloned())
            .map(|e| {
                let store = store.clone();
                tokio::spawn(async move { store.apply(&e).await.unwrap() })
            })
            .collect();
        let mut changed = 0;
        for delivery in deliveries {
            match delivery.await.unwrap() {
                Applied::Changed(_) => changed += 1,
                Applied::Duplicate => {}
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!(changed, 3, "{backend:?}");
        let stored = store.by_id(&paid.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.captured_minor, stored.refunded_minor, stored.status),
            (10_000, 10_000, PaymentStatus::Refunded),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_partial_refund_and_a_failure_show_in_the_status() {
    for db in every_backend(&payments::MIGRATIONS).await {
        let store = PaymentStore::new(db);
        let partly = payment("ch_p");
        store.insert(&partly).await.unwrap();
        store
            .apply(&event("e1", EventKind::ChargeSucceeded, "ch_p", 1, 10_000))
            .await
            .unwrap();
        let Applied::Changed(after) = store
            .apply(&event("e2", EventKind::RefundSucceeded, "ch_p", 2, 2_500))
            .await
            .unwrap()
        else {
            panic!("the refund applies")
        };
        assert_eq!(after.status, PaymentStatus::PartiallyRefunded);

        let declined = payment("ch_d");
        store.insert(&declined).await.unwrap();
        let mut failed = event("e3", EventKind::ChargeFailed, "ch_d", 1, 10_000);
        failed.failure_code = Some("card_declined".into());
        let Applied::Changed(after) = store.apply(&failed).await.unwrap() else {
            panic!("the failure applies")
        };
        assert_eq!(
            (after.status, after.failure_code.as_deref()),
            (PaymentStatus::Failed, Some("card_declined"))
        );
    }
}

#[tokio::test]
async fn an_event_for_an_unrecorded_charge_waits_for_its_redelivery() {
    for db in every_backend(&payments::MIGRATIONS).await {
        let store = PaymentStore::new(db);
        let early = event("e_early", EventKind::ChargeSucceeded, "ch_late", 1, 10_000);
        assert_eq!(store.apply(&early).await.unwrap(), Applied::UnknownCharge);
        let late = payment("ch_late");
        store.insert(&late).await.unwrap();
        // Not marked processed the first time, so the redelivery applies.
        assert!(
            matches!(store.apply(&early).await.unwrap(), Applied::Changed(p) if p.status == PaymentStatus::Captured)
        );
        assert_eq!(store.apply(&early).await.unwrap(), Applied::Duplicate);
    }
}
