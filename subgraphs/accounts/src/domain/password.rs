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

    /// The argon2id PHC string with a random salt, at `cost`.
    pub fn hash(&self, cost: &HashCost) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(cost
            .argon2()
            .hash_password(self.0.as_bytes(), &salt)?
            .to_string())
    }
}

/// argon2id's cost: memory in KiB, iterations, lanes, checked by argon2 when made. The default
/// is the crate's (and OWASP's) recommendation: 19 MiB, 2 iterations, 1 lane.
#[derive(Clone, Debug, Default)]
pub struct HashCost(argon2::Params);

impl HashCost {
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, argon2::Error> {
        argon2::Params::new(memory_kib, iterations, parallelism, None).map(Self)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            self.0.clone(),
        )
    }
}

/// Checks a login attempt against a stored hash (whose own parameters apply). Unknown users
/// are checked against `dummy_hash`, a hash at the current cost, so both paths cost the same.
pub fn verify(candidate: &str, stored_hash: Option<&str>, dummy_hash: &str) -> bool {
    let hash = stored_hash.unwrap_or(dummy_hash);
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
        let cost = HashCost::default();
        let hash = Password::parse("correct horse battery", "x@example.com")
            .unwrap()
            .hash(&cost)
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let dummy = Password::parse("another horse battery", "x@example.com")
            .unwrap()
            .hash(&cost)
            .unwrap();
        assert!(verify("correct horse battery", Some(&hash), &dummy));
        assert!(!verify("wrong horse battery", Some(&hash), &dummy));
        assert!(!verify("another horse battery", None, &dummy));

        // Another cost is written into the hash, and verification follows it.
        let light = HashCost::new(8192, 1, 1).unwrap();
        let hash = Password::parse("correct horse battery", "x@example.com")
            .unwrap()
            .hash(&light)
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert!(verify("correct horse battery", Some(&hash), &dummy));
    }
}
