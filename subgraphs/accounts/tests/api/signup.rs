//! Signing up: the account, its `user.registered` event and the link confirming its address
//! (with the email carrying it) are stored together or not at all.

use accounts::Accounts;
use kit::testing::spawn_app;

async fn count(app: &kit::testing::TestApp<Accounts>, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.subgraph.service.store.database().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sign_up_is_stored_with_its_confirmation_link_or_not_at_all() {
    let app = spawn_app::<Accounts>().await;
    let service = &app.subgraph.service;
    let ada = service
        .register("ada@example.com", "a-fine-password-1", "Ada", "127.0.0.1")
        .await
        .unwrap()
        .user;
    let links = format!(
        "SELECT COUNT(*) FROM email_verifications WHERE user_id = '{}' AND is_change = 0",
        ada.id
    );
    assert_eq!(count(&app, &links).await, 1);
    let events = "SELECT COUNT(*) FROM outbox_events \
        WHERE topic IN ('user.registered', 'user.email_verification_requested')";
    assert_eq!(count(&app, events).await, 2);

    // Storing the link fails (its table is gone), as a crash between the account and its link
    // would have it: the sign-up is refused whole, and the address can sign up again later.
    sqlx::query("DROP TABLE email_verifications")
        .execute(service.store.database().pool())
        .await
        .unwrap();
    let refused = service
        .register("bob@example.com", "a-fine-password-1", "Bob", "127.0.0.1")
        .await;
    assert!(
        refused.is_err(),
        "the sign-up cannot succeed without its link"
    );
    assert!(
        service
            .store
            .user_by_email("bob@example.com")
            .await
            .unwrap()
            .is_none(),
        "no account is left without its link"
    );
    assert_eq!(
        count(&app, events).await,
        2,
        "no event of the refused sign-up"
    );
}
