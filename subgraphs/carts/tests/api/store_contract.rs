//! Both cart stores behave the same: Redis (production) and the SQL database (embedded).

use std::sync::Arc;
use std::time::Duration;

use carts::domain::{MAX_LINES, MAX_QUANTITY};
use carts::store::{CartStore, ChangeOutcome, LineChange, RedisCarts, SqlCarts, StoredCart};

/// Adds `quantity` units (of a variant of product `prod_p`; the store does not look).
fn add(quantity: i64) -> LineChange {
    LineChange::Add {
        quantity,
        product_id: "prod_p".into(),
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn every_store() -> Vec<(&'static str, Arc<dyn CartStore>)> {
    let namespace = primitives::id::new_id("test");
    vec![
        (
            "redis",
            Arc::new(
                RedisCarts::connect("redis://127.0.0.1:6379", &namespace, None)
                    .await
                    .expect("Redis must run for the tests (see README)"),
            ),
        ),
        (
            "sqlite",
            Arc::new(SqlCarts::new(
                storage::db::testing::sqlite(&carts::MIGRATIONS).await,
            )),
        ),
    ]
}

fn quantities(cart: &StoredCart) -> Vec<(String, i64)> {
    cart.lines
        .iter()
        .map(|l| (l.variant_id.clone(), l.quantity))
        .collect()
}

fn changed(outcome: ChangeOutcome) -> StoredCart {
    match outcome {
        ChangeOutcome::Changed(cart) => cart,
        other => panic!("expected a change, got {other:?}"),
    }
}

#[tokio::test]
async fn lines_are_added_changed_and_removed_within_the_limits() {
    for (name, store) in every_store().await {
        let key = "user:usr_1";
        assert_eq!(store.get(key).await.unwrap(), None, "{name}");
        assert_eq!(
            store
                .change(key, "prod_a", add(1), false, DAY)
                .await
                .unwrap(),
            ChangeOutcome::NoCart,
            "{name}"
        );
        changed(
            store
                .change(key, "prod_a", add(2), true, DAY)
                .await
                .unwrap(),
        );
        changed(
            store
                .change(key, "prod_b", add(1), true, DAY)
                .await
                .unwrap(),
        );
        let cart = changed(
            store
                .change(key, "prod_a", add(3), true, DAY)
                .await
                .unwrap(),
        );
        assert_eq!(
            quantities(&cart),
            vec![("prod_a".into(), 5), ("prod_b".into(), 1)],
            "{name}"
        );

        assert_eq!(
            store
                .change(key, "prod_a", add(MAX_QUANTITY), true, DAY)
                .await
                .unwrap(),
            ChangeOutcome::TooMany { current: 5 },
            "{name}"
        );
        assert_eq!(
            store
                .change(key, "prod_x", LineChange::Set(3), false, DAY)
                .await
                .unwrap(),
            ChangeOutcome::NoLine,
            "{name}"
        );
        let cart = changed(
            store
                .change(key, "prod_a", LineChange::Set(MAX_QUANTITY), false, DAY)
                .await
                .unwrap(),
        );
        assert_eq!(quantities(&cart)[0].1, MAX_QUANTITY, "{name}");
        let cart = changed(
            store
                .change(key, "prod_b", LineChange::Remove, false, DAY)
                .await
                .unwrap(),
        );
        assert_eq!(
            quantities(&cart),
            vec![("prod_a".into(), MAX_QUANTITY)],
            "{name}"
        );
        let cleared = store.clear(key, DAY).await.unwrap().unwrap();
        assert!(cleared.lines.is_empty(), "{name}");
        assert_eq!(
            store.clear("user:nobody", DAY).await.unwrap(),
            None,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_cart_holds_at_most_the_line_limit() {
    for (name, store) in every_store().await {
        let key = "user:usr_full";
        for i in 0..MAX_LINES {
            changed(
                store
                    .change(key, &format!("prod_{i:03}"), add(1), true, DAY)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            store
                .change(key, "prod_more", add(1), true, DAY)
                .await
                .unwrap(),
            ChangeOutcome::TooManyLines,
            "{name}"
        );
        // More of a product already in the cart is fine.
        changed(
            store
                .change(key, "prod_000", add(1), true, DAY)
                .await
                .unwrap(),
        );
        assert_eq!(
            store.get(key).await.unwrap().unwrap().lines.len(),
            MAX_LINES,
            "{name}"
        );
    }
}

#[tokio::test]
async fn merging_sums_quantities_keeps_limits_and_removes_the_guest_cart() {
    for (name, store) in every_store().await {
        let (guest, user) = ("guest:abc", "user:usr_m");
        store.create(guest, DAY).await.unwrap();
        changed(
            store
                .change(guest, "prod_a", add(60), false, DAY)
                .await
                .unwrap(),
        );
        changed(
            store
                .change(guest, "prod_b", add(2), false, DAY)
                .await
                .unwrap(),
        );
        changed(
            store
                .change(user, "prod_a", add(50), true, DAY)
                .await
                .unwrap(),
        );
        changed(
            store
                .change(user, "prod_c", add(1), true, DAY)
                .await
                .unwrap(),
        );
        let merged = store.merge(guest, user, DAY).await.unwrap().unwrap();
        let mut got = quantities(&merged);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("prod_a".into(), MAX_QUANTITY),
                ("prod_b".into(), 2),
                ("prod_c".into(), 1)
            ],
            "{name}"
        );
        assert_eq!(store.get(guest).await.unwrap(), None, "{name}");
        assert_eq!(
            store.merge(guest, user, DAY).await.unwrap(),
            None,
            "{name}: merged twice"
        );
        // A user without a cart gets the guest's.
        store.create("guest:def", DAY).await.unwrap();
        changed(
            store
                .change("guest:def", "prod_z", add(4), false, DAY)
                .await
                .unwrap(),
        );
        let fresh = store
            .merge("guest:def", "user:usr_new", DAY)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(quantities(&fresh), vec![("prod_z".into(), 4)], "{name}");
    }
}

#[tokio::test]
async fn a_cart_expires_when_its_time_to_live_runs_out() {
    for (name, store) in every_store().await {
        changed(
            store
                .change("user:usr_t", "prod_a", add(1), true, DAY)
                .await
                .unwrap(),
        );
        // A write with no time left ends the cart at once (each write restarts the clock).
        let _ = store
            .change("user:usr_t", "prod_a", add(1), false, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(store.get("user:usr_t").await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn fifty_concurrent_add_one_on_the_same_line_end_at_fifty() {
    for (name, store) in every_store().await {
        let key = "user:usr_race";
        let adds: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .change(key, "prod_hot", add(1), true, DAY)
                        .await
                        .unwrap()
                })
            })
            .collect();
        for add in adds {
            changed(add.await.unwrap());
        }
        let cart = store.get(key).await.unwrap().unwrap();
        assert_eq!(quantities(&cart), vec![("prod_hot".into(), 50)], "{name}");
    }
}

/// A Redis cart written before variants (`p:<product>` = `quantity:added_at`) reads as lines of
/// the products' default variants, and the next change rewrites it as such without losing or
/// doubling a line.
#[tokio::test]
async fn a_redis_cart_from_before_variants_reads_and_changes_as_default_variants() {
    let namespace = primitives::id::new_id("test");
    let store = RedisCarts::connect("redis://127.0.0.1:6379", &namespace, None)
        .await
        .unwrap();
    let client = ::redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let (old_a, old_b) = (
        primitives::id::new_id("prod"),
        primitives::id::new_id("prod"),
    );
    let _: () = ::redis::cmd("HSET")
        .arg(format!("{namespace}:cart:user:usr_old"))
        .arg("_created")
        .arg(1)
        .arg("_updated")
        .arg(1)
        .arg(format!("p:{old_a}"))
        .arg("2:10")
        .arg(format!("p:{old_b}"))
        .arg("1:11")
        .query_async(&mut connection)
        .await
        .unwrap();
    let var_a = commerce::variant::default_variant_id(&old_a);
    let var_b = commerce::variant::default_variant_id(&old_b);
    let cart = store.get("user:usr_old").await.unwrap().unwrap();
    assert_eq!(
        quantities(&cart),
        vec![(var_a.clone(), 2), (var_b.clone(), 1)]
    );
    assert_eq!(cart.lines[0].product_id, old_a);

    // One more of a: the old line grows, it is not added beside it.
    let cart = changed(
        store
            .change("user:usr_old", &var_a, add(1), true, DAY)
            .await
            .unwrap(),
    );
    assert_eq!(quantities(&cart), vec![(var_a.clone(), 3), (var_b, 1)]);
    assert_eq!(
        (cart.lines[0].product_id.as_str(), cart.lines[0].added_at),
        (old_a.as_str(), 10)
    );
    let fields: Vec<String> = ::redis::cmd("HKEYS")
        .arg(format!("{namespace}:cart:user:usr_old"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(fields.iter().all(|f| !f.starts_with("p:")), "{fields:?}");
}

/// The embedded store's lines from before variants belong to the default variants.
#[tokio::test]
async fn sqlite_cart_lines_from_before_variants_belong_to_default_variants() {
    static BEFORE_VARIANTS: storage::migrations::Migrations =
        storage::migrations!("../../migrations/carts", ["0001_carts.sql"]);
    let url = storage::db::testing::sqlite_url();
    let old = storage::db::Database::connect(&url, 1, &BEFORE_VARIANTS)
        .await
        .unwrap();
    let product = primitives::id::new_id("prod");
    let far = primitives::time::now_millis() + 3_600_000;
    sqlx::query("INSERT INTO carts (cart_key, created_at, updated_at, expires_at) VALUES ('user:usr_o', 1, 1, $1)")
        .bind(far)
        .execute(old.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO cart_lines (cart_key, product_id, quantity, added_at) VALUES ('user:usr_o', $1, 4, 5)")
        .bind(&product)
        .execute(old.pool())
        .await
        .unwrap();
    old.close().await;
    let store = SqlCarts::new(
        storage::db::Database::connect(&url, 1, &carts::MIGRATIONS)
            .await
            .unwrap(),
    );
    let cart = store.get("user:usr_o").await.unwrap().unwrap();
    assert_eq!(
        quantities(&cart),
        vec![(commerce::variant::default_variant_id(&product), 4)]
    );
    assert_eq!(cart.lines[0].product_id, product);
}
