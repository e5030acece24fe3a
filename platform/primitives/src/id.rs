//! Opaque IDs: a type prefix and a ULID, e.g. `prod_01JD3...`. ULIDs from one process are
//! monotonic, so IDs sort by creation even within one millisecond.

use std::sync::Mutex;
use ulid::Generator;

static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

pub fn new_id(prefix: &str) -> String {
    let mut guard = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    // `generate` fails only when 2^80 IDs were made in one millisecond; fall back to a random one.
    let ulid = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}_{ulid}")
}

/// A new secret: `prefix_` and 256 random bits, base64url. Never an ID: IDs from one process
/// follow each other, so one could be guessed from another.
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// True when `id` looks like an ID of this type (prefix and a 26-character ULID).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid::Ulid::from_string(ulid).is_ok())
}

/// SHA-256 of `bytes` as lower-case hex (stored hashes of secrets, request fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An ID that follows from `input` (the same input, the same ID): the prefix and the first
/// `bytes` bytes of its SHA-256 in hex, e.g. `cart_3f2a...`. It does not reveal the input.
pub fn derived_id(prefix: &str, input: &str, bytes: usize) -> String {
    let hex = sha256_hex(input.as_bytes());
    format!("{prefix}_{}", &hex[..bytes * 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_sort_by_creation() {
        let ids: Vec<String> = (0..1000).map(|_| new_id("prod")).collect();
        assert!(ids.iter().all(|id| has_prefix(id, "prod")));
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(!has_prefix(&ids[0], "user"));
        assert!(!has_prefix("prod_nope", "prod"));
    }

    #[test]
    fn derived_ids_follow_their_input() {
        let id = derived_id("cart", "user:1", 12);
        assert_eq!(id, derived_id("cart", "user:1", 12));
        assert_ne!(id, derived_id("cart", "user:2", 12));
        assert!(
            id.starts_with("cart_") && id.len() == "cart_".len() + 24,
            "{id}"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
