//! The accounts store behaves the same on PostgreSQL and SQLite.

use accounts::store::*;
use kit::pagination::PageRequest;
use storage::db::testing::every_backend;

fn user(id: &str, email: &str, name: &str, roles: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: email.into(),
        password_hash: "hash".into(),
        name: name.into(),
        roles: roles.into(),
        created_at: 1,
        updated_at: 1,
        disabled_at: None,
    }
}

fn token(id: &str, family: &str, hash: &str, expires_at: i64) -> RefreshTokenRow {
    RefreshTokenRow {
        id: id.into(),
        family_id: family.into(),
        user_id: "user_1".into(),
        token_hash: hash.into(),
        created_at: 1,
        expires_at,
    }
}

#[tokio::test]
async fn users_are_unique_by_email_and_listed_by_filter() {
    for db in every_backend(&accounts::MIGRATIONS).await {
        let backend = db.backend();
        let store = AccountsStore::new(db);
        store
            .insert_user(&user("user_1", "ada@example.com", "Ada 100%", "customer"))
            .await
            .unwrap();
        store
            .insert_user(&user("user_2", "bob@example.com", "Bob", "customer"))
            .await
            .unwrap();
        store
            .insert_user(&user("user_3", "cy@example.com", "Cy_", "customer"))
            .await
            .unwrap();
        let duplicate = store
            .insert_user(&user("user_4", "ada@example.com", "Other", "customer"))
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::DuplicateEmail)),
            "{backend:?}"
        );

        assert_eq!(
            store
                .users_by_ids(&["user_2".into(), "user_9".into()])
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .user_by_email("bob@example.com")
                .await
                .unwrap()
                .unwrap()
                .id,
            "user_2"
        );

        let role = accounts::domain::staff::StaffRole {
            id: "srole_support".into(),
            name: "Support".into(),
            permissions: vec![auth::Permission::OrdersRead],
            created_at: 1,
            updated_at: 1,
        };
        store.insert_staff_role(&role, &[]).await.unwrap();
        assert!(store
            .set_staff_roles(
                "user_2",
                std::slice::from_ref(&role.id),
                2,
                &[access_changed("user_2")]
            )
            .await
            .unwrap());
        let staff = UserFilter {
            role: Some(accounts::domain::Role::Staff),
            query: None,
        };
        assert_eq!(store.count_users(&staff).await.unwrap(), 1, "{backend:?}");
        // LIKE wildcards in the query are literal characters.
        let percent = UserFilter {
            role: None,
            query: Some("100%".into()),
        };
        assert_eq!(store.count_users(&percent).await.unwrap(), 1, "{backend:?}");
        let underscore = UserFilter {
            role: None,
            query: Some("y_".into()),
        };
        assert_eq!(
            store.count_users(&underscore).await.unwrap(),
            1,
            "{backend:?}"
        );

        let everyone = UserFilter::default();
        let first = store
            .list_users(
                &everyone,
                &PageRequest {
                    cursor: None,
                    limit: 2,
                    backward: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            first.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
            vec!["user_1", "user_2", "user_3"]
        );
        let rest = store
            .list_users(
                &everyone,
                &PageRequest {
                    cursor: Some("user_2".into()),
                    limit: 2,
                    backward: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);

        assert!(store.update_name("user_1", "Ada L.", 3).await.unwrap());
        assert!(!store.update_name("user_9", "Nobody", 3).await.unwrap());
        let ada = store
            .users_by_ids(&["user_1".into()])
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            (ada.name.as_str(), ada.roles.as_str(), ada.updated_at),
            ("Ada L.", "customer", 3)
        );
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_reuse_revokes_the_family() {
    for db in every_backend(&accounts::MIGRATIONS).await {
        let backend = db.backend();
        let store = AccountsStore::new(db);
        store
            .insert_user(&user("user_1", "ada@example.com", "Ada", "customer"))
            .await
            .unwrap();
        store
            .insert_refresh_token(&token("rt_1", "fam_1", "h1", 1_000))
            .await
            .unwrap();

        let rotated = store
            .rotate_refresh_token("h1", &token("rt_2", "", "h2", 1_000), 10)
            .await
            .unwrap();
        assert_eq!(
            rotated,
            Rotation::Rotated {
                user_id: "user_1".into(),
                family_id: "fam_1".into()
            },
            "{backend:?}"
        );
        assert_eq!(
            store
                .rotate_refresh_token("h1", &token("rt_3", "", "h3", 1_000), 11)
                .await
                .unwrap(),
            Rotation::Reused
        );
        // The reuse revoked the newer token of the family too.
        assert_eq!(
            store
                .rotate_refresh_token("h2", &token("rt_4", "", "h4", 1_000), 12)
                .await
                .unwrap(),
            Rotation::Reused
        );
        assert_eq!(
            store
                .rotate_refresh_token("nope", &token("rt_5", "", "h5", 1_000), 12)
                .await
                .unwrap(),
            Rotation::Unknown
        );

        store
            .insert_refresh_token(&token("rt_6", "fam_2", "h6", 100))
            .await
            .unwrap();
        assert_eq!(
            store
                .rotate_refresh_token("h6", &token("rt_7", "", "h7", 1_000), 100)
                .await
                .unwrap(),
            Rotation::Expired
        );

        store
            .insert_refresh_token(&token("rt_8", "fam_3", "h8", 1_000))
            .await
            .unwrap();
        assert!(store.revoke_family_of("h8", 20).await.unwrap());
        assert!(!store.revoke_family_of("unknown", 20).await.unwrap());
        assert_eq!(
            store
                .rotate_refresh_token("h8", &token("rt_9", "", "h9", 1_000), 21)
                .await
                .unwrap(),
            Rotation::Reused
        );

        // Disabling a user revokes their sessions.
        store
            .insert_refresh_token(&token("rt_10", "fam_4", "h10", 1_000))
            .await
            .unwrap();
        assert!(store
            .set_disabled("user_1", Some(30), 30, &[access_changed("user_1")])
            .await
            .unwrap());
        assert_eq!(
            store
                .rotate_refresh_token("h10", &token("rt_11", "", "h11", 1_000), 31)
                .await
                .unwrap(),
            Rotation::Reused
        );
    }
}

#[tokio::test]
async fn login_failures_count_within_a_window() {
    for db in every_backend(&accounts::MIGRATIONS).await {
        let store = AccountsStore::new(db);
        for (now, count) in [(100, 1), (110, 2), (120, 3)] {
            assert_eq!(
                store
                    .record_failure("email:a", now, now - 50)
                    .await
                    .unwrap(),
                count
            );
        }
        assert_eq!(store.failures("email:a", 70).await.unwrap(), 3);
        // A failure after the window has passed starts a new window.
        assert_eq!(store.record_failure("email:a", 500, 450).await.unwrap(), 1);
        assert_eq!(store.failures("email:a", 450).await.unwrap(), 1);
        assert_eq!(store.failures("email:b", 0).await.unwrap(), 0);
        store.clear_failures("email:a").await.unwrap();
        assert_eq!(store.failures("email:a", 0).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn addresses_and_signing_keys() {
    for db in every_backend(&accounts::MIGRATIONS).await {
        let store = AccountsStore::new(db);
        store
            .insert_user(&user("user_1", "ada@example.com", "Ada", "customer"))
            .await
            .unwrap();
        store
            .insert_user(&user("user_2", "bob@example.com", "Bob", "customer"))
            .await
            .unwrap();
        let mut address = AddressRow {
            id: "addr_1".into(),
            user_id: "user_1".into(),
            full_name: "Ada".into(),
            line1: "1 Road".into(),
            line2: None,
            city: "London".into(),
            region: None,
            postal_code: "N1".into(),
            country_code: "GB".into(),
            phone: Some("+44".into()),
            created_at: 1,
        };
        store.insert_address(&address).await.unwrap();
        address.city = "Bath".into();
        assert!(store.update_address(&address).await.unwrap());
        let others = AddressRow {
            user_id: "user_2".into(),
            ..address.clone()
        };
        assert!(
            !store.update_address(&others).await.unwrap(),
            "only the owner may change it"
        );
        assert!(!store.delete_address("user_2", "addr_1").await.unwrap());
        assert_eq!(
            store
                .addresses_of(&["user_1".into(), "user_2".into()])
                .await
                .unwrap(),
            vec![address]
        );
        assert!(store.delete_address("user_1", "addr_1").await.unwrap());

        store.add_signing_key("kid_1", "key_1", 0).await.unwrap();
        store.add_signing_key("kid_1", "other", 3).await.unwrap();
        store.add_signing_key("kid_2", "key_2", 5).await.unwrap();
        let keys = store.signing_keys().await.unwrap();
        assert_eq!(
            keys,
            vec![
                ("kid_2".to_string(), "key_2".to_string()),
                ("kid_1".to_string(), "key_1".to_string())
            ],
            "newest first; a stored kid is never overwritten"
        );
    }
}

#[tokio::test]
async fn two_concurrent_uses_of_one_refresh_token_rotate_it_once_and_end_the_session() {
    for db in every_backend(&accounts::MIGRATIONS).await {
        let backend = db.backend();
        let store = AccountsStore::new(db);
        store
            .insert_user(&user("user_1", "ada@example.com", "Ada", "customer"))
            .await
            .unwrap();
        store
            .insert_refresh_token(&token("rt_1", "fam_1", "h1", 1_000))
            .await
            .unwrap();
        let (next_a, next_b) = (
            token("rt_a", "", "ha", 1_000),
            token("rt_b", "", "hb", 1_000),
        );
        let (a, b) = tokio::join!(
            store.rotate_refresh_token("h1", &next_a, 10),
            store.rotate_refresh_token("h1", &next_b, 10),
        );
        let mut outcomes = vec![a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(
            outcomes,
            vec![
                Rotation::Reused,
                Rotation::Rotated {
                    user_id: "user_1".into(),
                    family_id: "fam_1".into()
                }
            ],
            "{backend:?}"
        );
        // Whichever request won, its new token died with the family.
        for hash in ["ha", "hb"] {
            let outcome = store
                .rotate_refresh_token(
                    hash,
                    &token(&format!("rt_{hash}2"), "", &format!("{hash}2"), 1_000),
                    11,
                )
                .await
                .unwrap();
            assert!(
                matches!(outcome, Rotation::Reused | Rotation::Unknown),
                "{backend:?}: {outcome:?}"
            );
        }
    }
}

/// The event a change of a user's access is stored with.
fn access_changed(user_id: &str) -> event_bus::Event {
    event_bus::Event::new(
        "accounts",
        &events::accounts::UserAccessChanged {
            user_id: user_id.into(),
            disabled: false,
            roles: vec![],
            changed_at: 0,
            session_id: None,
        },
    )
}
