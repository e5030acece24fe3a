//! Second factors: TOTP (RFC 6238: 6 digits, 30-second steps, SHA-1, the parameters every
//! authenticator app uses) and single-use recovery codes.

use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, Secret, TOTP};

/// Codes of the step before and after the current one are accepted too (clocks drift).
const SKEW: i64 = 1;
const STEP_SECS: i64 = 30;
/// How many recovery codes a user gets when TOTP is turned on.
pub const RECOVERY_CODES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored TOTP secret is not valid base32 of at least 128 bits")]
pub struct InvalidSecret;

/// A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

fn totp(secret: &str, account: &str) -> Result<TOTP, InvalidSecret> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|_| InvalidSecret)?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        STEP_SECS as u64,
        bytes,
        Some("Shop".into()),
        account.to_string(),
    )
    .map_err(|_| InvalidSecret)
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or pasted).
pub fn otpauth_uri(secret: &str, account: &str) -> Result<String, InvalidSecret> {
    Ok(totp(secret, account)?.get_url())
}

/// The time step whose code `code` is, among the current one and its neighbours; none when it
/// is none of theirs. The caller accepts it only for a step later than the last one used, so a
/// code works once.
pub fn matching_step(
    secret: &str,
    code: &str,
    now_secs: i64,
) -> Result<Option<i64>, InvalidSecret> {
    let totp = totp(secret, "")?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let current = now_secs / STEP_SECS;
    Ok((current - SKEW..=current + SKEW).find(|step| {
        let expected = totp.generate((step * STEP_SECS) as u64);
        super::tokens::constant_time_eq(expected.as_bytes(), code.as_bytes())
    }))
}

/// The code of `secret` at `time_secs` (tests compute what an app would show).
pub fn code_at(secret: &str, time_secs: i64) -> Result<String, InvalidSecret> {
    Ok(totp(secret, "")?.generate(time_secs as u64))
}

/// New recovery codes: ten of 50 random bits each, written `xxxxx-xxxxx` (base32, lower case).
pub fn new_recovery_codes() -> Vec<String> {
    let random = SystemRandom::new();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 8];
            random
                .fill(&mut bytes)
                .expect("the system random source works");
            let Secret::Encoded(text) = Secret::Raw(bytes.to_vec()).to_encoded() else {
                unreachable!("to_encoded gives an encoded secret")
            };
            let text = text.to_lowercase();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

/// A recovery code as typed (any case, with or without the dash and spaces) in the one form
/// its hash is taken of.
pub fn normalize_recovery_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether an answer to a challenge looks like a TOTP code (six digits) rather than a
/// recovery code.
pub fn is_totp_code(raw: &str) -> bool {
    let code = raw.trim();
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = new_secret();
        let now = 1_700_000_015;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now).unwrap(), Some(now / 30));
        assert_eq!(
            matching_step(&secret, &code, now + 30).unwrap(),
            Some(now / 30)
        );
        assert_eq!(matching_step(&secret, &code, now + 90).unwrap(), None);
        assert_eq!(matching_step(&secret, "12345", now).unwrap(), None);
        assert!(otpauth_uri(&secret, "ada@example.com")
            .unwrap()
            .starts_with("otpauth://totp/Shop:ada%40example.com?secret="));
        assert!(matching_step("not base32!", "123456", now).is_err());
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_any_way() {
        let codes = new_recovery_codes();
        let mut distinct = codes.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 11);
        assert_eq!(
            normalize_recovery_code(&format!(" {} ", codes[0].to_uppercase())),
            codes[0].replace('-', "")
        );
        assert!(is_totp_code(" 123456 ") && !is_totp_code(&codes[0]));
    }
}
