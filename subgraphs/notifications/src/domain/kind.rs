//! The kinds of message the shop sends, and which of them a customer may turn off.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Welcome,
    /// A link to set a new password (the account asked for it).
    PasswordReset,
    /// A link confirming an address (at sign-up, or a new one).
    EmailVerification,
    /// To the old address: the account's address was changed.
    EmailChanged,
    OrderPlaced,
    OrderPaid,
    OrderCancelled,
    OrderFailed,
    Refund,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    DeliveryException,
    Returned,
    /// After delivery: would you review what you bought?
    ReviewRequest,
    /// To admins: a product's stock fell to its threshold.
    StockLow,
    /// To admins: reconciliation found money or orders it could not set right.
    ReconciliationNeeded,
}

/// Why a message is sent: customers may opt out of marketing only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Account,
    Order,
    Shipping,
    Marketing,
    Admin,
}

impl Kind {
    pub const ALL: [Self; 18] = [
        Self::Welcome,
        Self::PasswordReset,
        Self::EmailVerification,
        Self::EmailChanged,
        Self::OrderPlaced,
        Self::OrderPaid,
        Self::OrderCancelled,
        Self::OrderFailed,
        Self::Refund,
        Self::Shipped,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::DeliveryException,
        Self::Returned,
        Self::ReviewRequest,
        Self::StockLow,
        Self::ReconciliationNeeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::EmailChanged => "email_changed",
            Self::OrderPlaced => "order_placed",
            Self::OrderPaid => "order_paid",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderFailed => "order_failed",
            Self::Refund => "refund",
            Self::Shipped => "shipped",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::DeliveryException => "delivery_exception",
            Self::Returned => "returned",
            Self::ReviewRequest => "review_request",
            Self::StockLow => "stock_low",
            Self::ReconciliationNeeded => "reconciliation_needed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn category(self) -> Category {
        match self {
            Self::Welcome | Self::PasswordReset | Self::EmailVerification | Self::EmailChanged => {
                Category::Account
            }
            Self::OrderPlaced
            | Self::OrderPaid
            | Self::OrderCancelled
            | Self::OrderFailed
            | Self::Refund => Category::Order,
            Self::Shipped
            | Self::InTransit
            | Self::OutForDelivery
            | Self::Delivered
            | Self::DeliveryException
            | Self::Returned => Category::Shipping,
            Self::ReviewRequest => Category::Marketing,
            Self::StockLow | Self::ReconciliationNeeded => Category::Admin,
        }
    }

    /// The message for a shipment reaching `status` (shipping's names).
    pub fn of_shipment_status(status: &str) -> Option<Self> {
        Some(match status {
            "label_created" => Self::Shipped,
            "in_transit" => Self::InTransit,
            "out_for_delivery" => Self::OutForDelivery,
            "delivered" => Self::Delivered,
            "exception" => Self::DeliveryException,
            "returned" => Self::Returned,
            _ => return None,
        })
    }
}

impl Category {
    /// Order, shipping, account and admin messages are always sent; marketing only to those
    /// who did not opt out.
    pub fn may_opt_out(self) -> bool {
        self == Self::Marketing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_marketing_can_be_turned_off() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.category().may_opt_out(), kind == Kind::ReviewRequest);
        }
        assert_eq!(Kind::of_shipment_status("delivered"), Some(Kind::Delivered));
        assert_eq!(Kind::of_shipment_status("lost"), None);
    }
}
