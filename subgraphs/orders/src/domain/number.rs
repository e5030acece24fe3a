//! Order numbers customers can read out: `SO-` and the date, then eight random Crockford base32
//! characters (no I, L, O, U), e.g. `SO-261201-7K3QJ9M2`. Unique by constraint; 32⁸ per day
//! makes a clash practically impossible.

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn new_number(now_millis: i64) -> String {
    let date = primitives::time::format_millis(now_millis);
    // `format_millis` gives RFC 3339: 2026-12-01T...
    let yymmdd: String = date
        .get(2..10)
        .unwrap_or("000000")
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    let random = ulid::Ulid::new().random();
    let suffix: String = (0..8)
        .map(|i| ALPHABET[((random >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("SO-{yymmdd}-{suffix}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_readable_and_differ() {
        let a = super::new_number(1_796_083_200_000);
        let b = super::new_number(1_796_083_200_000);
        assert_eq!(a.len(), "SO-261201-7K3QJ9M2".len(), "{a}");
        assert!(a.starts_with("SO-"), "{a}");
        assert_ne!(a, b);
    }
}
