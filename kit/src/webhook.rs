//! Signed webhooks (a payment provider's, a carrier's): the sender signs the timestamp and the
//! body with a shared secret, the receiver checks the signature and the age, so a forged,
//! tampered or replayed-late delivery is refused. Deduplicating by event id is the receiver's
//! next step ([`storage::processed::begin_once`]).
//!
//! Header: `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! Several `v1` values may be given (a sender rotating its secret signs with both).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// How old (or how far ahead of this clock) a delivery may be by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook has no signature header")]
    Missing,
    #[error("the webhook signature header is malformed")]
    Malformed,
    #[error("the webhook signature does not match")]
    BadSignature,
    #[error("the webhook is {age_secs} s old (at most {tolerance_secs} s accepted)")]
    Stale { age_secs: i64, tolerance_secs: u64 },
    #[error("the webhook's timestamp is {ahead_secs} s in the future")]
    FromTheFuture { ahead_secs: i64 },
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The signature header value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let signature = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex(&signature))
}

/// Checks a delivery against any of `secrets` (the current one and, while rotating, the
/// previous): the signature must match and the timestamp be within `tolerance` of `now_secs`.
/// Returns the signed timestamp.
pub fn verify(
    secrets: &[&[u8]],
    header: Option<&str>,
    body: &[u8],
    now_secs: i64,
    tolerance: Duration,
) -> Result<i64, WebhookError> {
    let header = header.ok_or(WebhookError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(value.parse::<i64>().map_err(|_| WebhookError::Malformed)?)
            }
            Some(("v1", value)) => signatures.push(unhex(value).ok_or(WebhookError::Malformed)?),
            // Other schemes (a future v2) are ignored, as senders add them beside v1.
            Some(_) => {}
            None => return Err(WebhookError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::Malformed)?;
    if signatures.is_empty() {
        return Err(WebhookError::Malformed);
    }
    // The signature first: an attacker learns nothing from the timestamp checks.
    let genuine = secrets.iter().any(|secret| {
        signatures
            .iter()
            .any(|signature| mac(secret, timestamp, body).verify_slice(signature).is_ok())
    });
    if !genuine {
        return Err(WebhookError::BadSignature);
    }
    let age = now_secs - timestamp;
    let tolerance_secs = tolerance.as_secs();
    if age > tolerance_secs as i64 {
        return Err(WebhookError::Stale {
            age_secs: age,
            tolerance_secs,
        });
    }
    if -age > tolerance_secs as i64 {
        return Err(WebhookError::FromTheFuture { ahead_secs: -age });
    }
    Ok(timestamp)
}

/// A receiver's check of one delivery now: its signature header against `secrets` (the current
/// one first) and its age against `tolerance`.
pub fn verify_delivery(
    secrets: &[String],
    headers: &http::HeaderMap,
    body: &[u8],
    tolerance: Duration,
) -> Result<i64, WebhookError> {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let secrets: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let now = primitives::time::now_millis() / 1000;
    verify(&secrets, header, body, now, tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment.captured"}"#;

    #[test]
    fn a_signed_delivery_verifies_within_its_tolerance() {
        let header = sign(SECRET, 1_000, BODY);
        assert!(header.starts_with("t=1000,v1="));
        assert_eq!(
            verify(&[SECRET], Some(&header), BODY, 1_010, DEFAULT_TOLERANCE),
            Ok(1_000)
        );
        // During a secret rotation the previous secret still verifies.
        assert_eq!(
            verify(
                &[b"whsec_new", SECRET],
                Some(&header),
                BODY,
                1_010,
                DEFAULT_TOLERANCE
            ),
            Ok(1_000)
        );
    }

    #[test]
    fn forged_tampered_stale_and_malformed_deliveries_are_refused() {
        let header = sign(SECRET, 1_000, BODY);
        let verify_at = |header: Option<&str>, body: &[u8], now: i64| {
            verify(&[SECRET], header, body, now, DEFAULT_TOLERANCE)
        };
        assert_eq!(verify_at(None, BODY, 1_000), Err(WebhookError::Missing));
        assert_eq!(
            verify_at(Some(&sign(b"guess", 1_000, BODY)), BODY, 1_000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_at(
                Some(&header),
                br#"{"id":"evt_1","type":"payment.refunded"}"#,
                1_000
            ),
            Err(WebhookError::BadSignature)
        );
        // The timestamp is signed too: moving it forward breaks the signature.
        let moved = header.replace("t=1000", "t=2000");
        assert_eq!(
            verify_at(Some(&moved), BODY, 2_000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_at(Some(&header), BODY, 1_301),
            Err(WebhookError::Stale {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            verify_at(Some(&header), BODY, 600),
            Err(WebhookError::FromTheFuture { ahead_secs: 400 })
        );
        for malformed in [
            "v1=abcd",
            "t=1000",
            "t=soon,v1=ab",
            "t=1000,v1=xyz",
            "garbage",
        ] {
            assert_eq!(
                verify_at(Some(malformed), BODY, 1_000),
                Err(WebhookError::Malformed),
                "{malformed}"
            );
        }
    }
}
