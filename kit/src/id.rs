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

/// True when `id` looks like an ID of this type (prefix and a 26-character ULID).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid::Ulid::from_string(ulid).is_ok())
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
}
