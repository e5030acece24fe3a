//! Timestamps: stored and carried as milliseconds since the Unix epoch, shown as RFC 3339.

/// Milliseconds since the Unix epoch: timestamps are stored as BIGINT on both backends.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// RFC 3339 text for a stored millisecond timestamp.
pub fn format_millis(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch of RFC 3339 text (`2026-12-01T10:00:00Z`); `None` when it
/// is not one.
pub fn parse_millis(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn rfc3339_text_parses_back() {
        assert_eq!(
            parse_millis("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_millis("yesterday"), None);
    }
}
