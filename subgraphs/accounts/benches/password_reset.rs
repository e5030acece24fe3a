//! Whether `requestPasswordReset` tells by its time that an account exists: the same request
//! for a known and for unknown emails, alternated, over HTTP to accounts alone on PostgreSQL;
//! prints each one's median and 90th percentile and the difference of the medians.
//!
//! `cargo bench -p accounts --bench password_reset` (BENCH_REQUESTS per kind, default 300;
//! TEST_DATABASE_URL as for the tests).

use std::time::{Duration, Instant};

use accounts::Accounts;
use kit::testing::spawn_app_with;
use serde_json::json;

const REQUEST: &str = "mutation($email: String!) { requestPasswordReset(input: { email: $email }) {
    success userErrors { code } } }";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let app = spawn_app_with::<Accounts>(|env| {
        env.set("ACCOUNTS_PASSWORD_RESETS_PER_ADDRESS", "100000000")
    })
    .await;
    let registered = app
        .data(
            "mutation { register(input: { email: \"known@example.com\",
                password: \"a-fine-password-1\", name: \"Known\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert!(registered["register"]["accessToken"].is_string());
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..requests * 2 {
        // Alternated, so a slow moment of the machine falls on both alike.
        let (email, times) = if i % 2 == 0 {
            ("known@example.com".to_string(), &mut known)
        } else {
            (format!("unknown-{i}@example.com"), &mut unknown)
        };
        let started = Instant::now();
        let answer = app.data(REQUEST, json!({ "email": email }), None).await;
        times.push(started.elapsed());
        assert_eq!(answer["requestPasswordReset"]["success"], true, "{answer}");
    }
    known.sort();
    unknown.sort();
    for (what, times) in [("known email", &known), ("unknown email", &unknown)] {
        println!(
            "{what:>14}: p50 {:.3} ms, p90 {:.3} ms ({} requests)",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.9)),
            times.len()
        );
    }
    println!(
        "difference of the medians: {:+.3} ms",
        ms(percentile(&known, 0.5)) - ms(percentile(&unknown, 0.5))
    );
}
