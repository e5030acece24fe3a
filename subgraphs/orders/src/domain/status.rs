//! The order state machine. An order is created `Pending` while checkout runs; the saga ends it
//! `Paid` or `Failed`; fulfilment and delivery follow. Customers may cancel until fulfilment,
//! admins until delivery; everything else is refused (a userError, never a silent no-op).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created; stock being reserved and payment taken.
    Pending,
    Paid,
    /// Handed to shipping.
    Fulfilled,
    Delivered,
    Cancelled,
    /// Checkout did not complete (out of stock, payment declined); nothing is held or charged.
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Customer,
    Admin,
    /// The checkout saga, payments and shipping events.
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {} cannot become {} ({actor:?})", from.as_str(), to.as_str())]
pub struct InvalidTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub actor: Actor,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Customer, Self::Admin, Self::System]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Fulfilled => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// Every status, in the order an order passes them.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Paid,
        Self::Fulfilled,
        Self::Delivered,
        Self::Cancelled,
        Self::Failed,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The customer was charged and the order was not undone: it counts as a sale.
    pub fn is_sale(self) -> bool {
        matches!(self, Self::Paid | Self::Fulfilled | Self::Delivered)
    }

    /// No transition leaves these.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled | Self::Failed)
    }

    /// Whether `actor` may move an order from `self` to `to`.
    pub fn transition(self, to: Self, actor: Actor) -> Result<Self, InvalidTransition> {
        use Actor::*;
        use OrderStatus::*;
        let allowed = match (self, to) {
            (Pending, Paid | Failed) => actor == System,
            (Paid, Fulfilled) => matches!(actor, Admin | System),
            (Fulfilled, Delivered) => matches!(actor, Admin | System),
            // Customers until fulfilment, admins until delivery; the saga compensates a
            // pending order it cannot finish by failing it, not by cancelling.
            (Pending | Paid, Cancelled) => matches!(actor, Customer | Admin),
            (Fulfilled, Cancelled) => actor == Admin,
            _ => false,
        };
        if allowed {
            Ok(to)
        } else {
            Err(InvalidTransition {
                from: self,
                to,
                actor,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Actor::*;
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn customers_cancel_until_fulfilment_admins_until_delivery() {
        assert_eq!(Paid.transition(Cancelled, Customer), Ok(Cancelled));
        assert!(Fulfilled.transition(Cancelled, Customer).is_err());
        assert_eq!(Fulfilled.transition(Cancelled, Admin), Ok(Cancelled));
        assert!(Delivered.transition(Cancelled, Admin).is_err());
    }

    #[test]
    fn only_the_saga_settles_checkout_and_final_states_stay_final() {
        assert_eq!(Pending.transition(Paid, System), Ok(Paid));
        assert!(Pending.transition(Paid, Admin).is_err());
        assert!(Pending.transition(Paid, Customer).is_err());
        for from in [Delivered, Cancelled, Failed] {
            assert!(from.is_final());
            for to in [Pending, Paid, Fulfilled, Delivered, Cancelled, Failed] {
                for actor in [Customer, Admin, System] {
                    assert!(from.transition(to, actor).is_err(), "{from:?} -> {to:?}");
                }
            }
        }
        assert!(
            Paid.transition(Delivered, Admin).is_err(),
            "no skipping fulfilment"
        );
        let error = Paid.transition(Pending, Admin).unwrap_err().to_string();
        assert_eq!(error, "an order that is paid cannot become pending (Admin)");
        for s in [
            "pending",
            "paid",
            "fulfilled",
            "delivered",
            "cancelled",
            "failed",
        ] {
            assert_eq!(OrderStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
