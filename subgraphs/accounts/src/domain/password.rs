//! Password policy and argon2id hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// Passwords everyone tries first; refused whatever their length.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "admin12345",
    "passw0rd123",
    "abc1234567",
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeakPassword {
    #[error("password must have at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("password must have at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("password is too common")]
    Common,
    #[error("password must not contain the email address")]
    ContainsEmail,
}

/// A password that meets the policy (length, not common, not the email).
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, email: &str) -> Result<Self, WeakPassword> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(WeakPassword::TooShort);
        }
        if length > MAX_LENGTH {
            return Err(WeakPassword::TooLong);
        }
        let lower = raw.to_lowercase();
        if COMMON.contains(&lower.as_str())
            || lower
                .chars()
                .all(|c| c == lower.chars().next().unwrap_or(' '))
        {
            return Err(WeakPassword::Common);
        }
        let local = email.split('@').next().unwrap_or_default();
        if local.len() >= 4 && lower.contains(local) {
            return Err(WeakPassword::ContainsEmail);
        }
        Ok(Self(raw.into()))
    }

    /// The argon2id PHC string (random salt, the crate's recommended cost).
    pub fn hash(&self) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)?
            .to_string())
    }
}

/// Checks a login attempt against a stored hash. Unknown users are checked against a dummy hash
/// so both paths cost the same.
pub fn verify(candidate: &str, stored_hash: Option<&str>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W2UMbPgyJq3yUeXkJ6oiFQ4xdeHf62A3ZL2iydX8dmA";
    let hash = stored_hash.unwrap_or(DUMMY);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    ok && stored_hash.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_weak_passwords() {
        let email = "ada@example.com";
        assert_eq!(
            Password::parse("short", email).err(),
            Some(WeakPassword::TooShort)
        );
        assert_eq!(
            Password::parse(&"x".repeat(129), email).err(),
            Some(WeakPassword::TooLong)
        );
        assert_eq!(
            Password::parse("Password123", email).err(),
            Some(WeakPassword::Common)
        );
        assert_eq!(
            Password::parse("aaaaaaaaaaaa", email).err(),
            Some(WeakPassword::Common)
        );
        assert_eq!(
            Password::parse("ada-secret-99", "adams@example.com").err(),
            None
        );
        assert_eq!(
            Password::parse("my-adams-pass", "adams@example.com").err(),
            Some(WeakPassword::ContainsEmail)
        );
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = Password::parse("correct horse battery", "x@example.com")
            .unwrap()
            .hash()
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&hash)));
        assert!(!verify("wrong horse battery", Some(&hash)));
        assert!(!verify("anything at all", None));
    }
}
