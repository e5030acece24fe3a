//! Payment rules: a payment's status follows from what the provider reported (captured,
//! refunded, failed), so provider events can be applied in any order and, deduplicated by event
//! id, any number of times.

/// A payment's state as shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Requested; the provider has not reported the result yet.
    Authorized,
    /// The provider waits for the customer to confirm with their bank (3-D Secure).
    RequiresAction,
    Captured,
    Failed,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::RequiresAction => "requires_action",
            Self::Captured => "captured",
            Self::Failed => "failed",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Authorized,
            Self::RequiresAction,
            Self::Captured,
            Self::Failed,
            Self::PartiallyRefunded,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// The status from the provider's reports, whatever order they came in: a refund reported
/// before its capture still counts once the capture arrives. Until a result, a charge the
/// customer still has to confirm (`awaiting_action`) requires action.
pub fn status(
    captured_minor: i64,
    refunded_minor: i64,
    failed: bool,
    awaiting_action: bool,
) -> PaymentStatus {
    if failed && captured_minor == 0 {
        PaymentStatus::Failed
    } else if captured_minor == 0 && awaiting_action {
        PaymentStatus::RequiresAction
    } else if captured_minor == 0 {
        PaymentStatus::Authorized
    } else if refunded_minor >= captured_minor {
        PaymentStatus::Refunded
    } else if refunded_minor > 0 {
        PaymentStatus::PartiallyRefunded
    } else {
        PaymentStatus::Captured
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_follows_from_the_reports_in_any_order() {
        assert_eq!(status(0, 0, false, false), PaymentStatus::Authorized);
        assert_eq!(status(0, 0, true, false), PaymentStatus::Failed);
        assert_eq!(status(1000, 0, false, false), PaymentStatus::Captured);
        assert_eq!(
            status(1000, 400, false, false),
            PaymentStatus::PartiallyRefunded
        );
        assert_eq!(status(1000, 1000, false, false), PaymentStatus::Refunded);
        // A refund reported before the capture: authorized until the capture arrives.
        assert_eq!(status(0, 400, false, false), PaymentStatus::Authorized);
        // Waiting for the customer's bank until a result comes, whichever.
        assert_eq!(status(0, 0, false, true), PaymentStatus::RequiresAction);
        assert_eq!(status(0, 0, true, true), PaymentStatus::Failed);
        assert_eq!(status(1000, 0, false, true), PaymentStatus::Captured);
        for s in [
            "authorized",
            "requires_action",
            "captured",
            "failed",
            "partially_refunded",
            "refunded",
        ] {
            assert_eq!(PaymentStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
