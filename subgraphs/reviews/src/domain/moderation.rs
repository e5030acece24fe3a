//! What a review must pass before it is shown: within the length limits, and held for an admin
//! when it is long or carries links; hidden after enough reports until an admin looks at it.

/// Titles longer than this are refused.
pub const MAX_TITLE_CHARS: usize = 120;
/// Bodies longer than this are refused.
pub const MAX_BODY_CHARS: usize = 5_000;
/// Bodies longer than this are held for moderation.
pub const HOLD_BODY_CHARS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReview {
    #[error("the title must be 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("the text must be at most {MAX_BODY_CHARS} characters")]
    Body,
}

/// Where a new or edited review goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Published,
    /// Waits for an admin: why.
    Held(HoldReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    Long,
    Links,
    /// Hidden by readers' reports until an admin looks at it.
    Reported,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Long => "long",
            Self::Links => "links",
            Self::Reported => "reported",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Long, Self::Links, Self::Reported]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// A review's place in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    /// Waiting for an admin (held when written, or hidden by reports).
    Pending,
    /// Shown to everyone and counted in the product's rating.
    Published,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Published, Self::Rejected]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// Only published reviews count in the product's rating.
    pub fn counts(self) -> bool {
        self == Self::Published
    }
}

impl Placement {
    /// The status and hold reason a review placed so gets.
    pub fn status(self) -> (ReviewStatus, Option<HoldReason>) {
        match self {
            Self::Published => (ReviewStatus::Published, None),
            Self::Held(reason) => (ReviewStatus::Pending, Some(reason)),
        }
    }
}

/// Checks a review's text: refused when over the limits, held when long or with links.
pub fn place(title: &str, body: &str) -> Result<Placement, InvalidReview> {
    let title_chars = title.trim().chars().count();
    if title_chars == 0 || title_chars > MAX_TITLE_CHARS {
        return Err(InvalidReview::Title);
    }
    let body_chars = body.trim().chars().count();
    if body_chars > MAX_BODY_CHARS {
        return Err(InvalidReview::Body);
    }
    if has_link(title) || has_link(body) {
        Ok(Placement::Held(HoldReason::Links))
    } else if body_chars > HOLD_BODY_CHARS {
        Ok(Placement::Held(HoldReason::Long))
    } else {
        Ok(Placement::Published)
    }
}

fn has_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["http://", "https://", "www."]
        .iter()
        .any(|marker| lower.contains(marker))
}

/// Whether a published review is hidden by its reports until an admin looks at it.
pub fn hidden_by_reports(reports: u32, threshold: u32) -> bool {
    threshold > 0 && reports >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_linked_reviews_wait_and_oversized_ones_are_refused() {
        assert_eq!(place("Great lamp", "Bright."), Ok(Placement::Published));
        assert_eq!(
            place("Great", "see https://spam.example"),
            Ok(Placement::Held(HoldReason::Links))
        );
        assert_eq!(
            place("Visit WWW.spam.example", "ok"),
            Ok(Placement::Held(HoldReason::Links))
        );
        let long = "a".repeat(HOLD_BODY_CHARS + 1);
        assert_eq!(place("Long", &long), Ok(Placement::Held(HoldReason::Long)));
        let huge = "a".repeat(100 * 1024);
        assert_eq!(place("Huge", &huge), Err(InvalidReview::Body));
        assert_eq!(place("  ", "text"), Err(InvalidReview::Title));
        assert_eq!(
            place(&"t".repeat(MAX_TITLE_CHARS + 1), "text"),
            Err(InvalidReview::Title)
        );
        // Characters, not bytes.
        let accents = "é".repeat(HOLD_BODY_CHARS);
        assert_eq!(place("Accents", &accents), Ok(Placement::Published));
    }

    #[test]
    fn statuses_and_reasons_round_trip() {
        for status in [
            ReviewStatus::Pending,
            ReviewStatus::Published,
            ReviewStatus::Rejected,
        ] {
            assert_eq!(ReviewStatus::parse(status.as_str()), Some(status));
        }
        for reason in [HoldReason::Long, HoldReason::Links, HoldReason::Reported] {
            assert_eq!(HoldReason::parse(reason.as_str()), Some(reason));
        }
        assert!(ReviewStatus::Published.counts() && !ReviewStatus::Pending.counts());
        assert_eq!(
            Placement::Held(HoldReason::Links).status(),
            (ReviewStatus::Pending, Some(HoldReason::Links))
        );
    }

    #[test]
    fn reports_hide_a_review_at_the_threshold() {
        assert!(!hidden_by_reports(2, 3));
        assert!(hidden_by_reports(3, 3));
        assert!(!hidden_by_reports(10, 0), "0 turns hiding off");
    }
}
