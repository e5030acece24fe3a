//! Who checks out: a signed-in customer, or a guest known by an email and their cart's token.

use commerce::email::Email;

/// The prefix of a guest's customer id (user ids are `usr_…`).
const GUEST: &str = "guest";

/// Whose cart checkout reads and empties: a user's, or a guest's by its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartHolder {
    User(String),
    Guest(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Buyer {
    /// A signed-in customer, by user id.
    Customer(String),
    /// A guest: the token of their guest cart, and the email that gets the confirmation and
    /// finds the order (which a preview may not have yet; checkout needs it).
    Guest {
        email: Option<Email>,
        cart_token: String,
    },
}

impl Buyer {
    /// The id orders carry as their customer's; none for a guest without an email yet. A
    /// guest's is derived from the email, so a guest's idempotency keys and per-customer
    /// promotion limits count per email address, and no user id is ever a guest's.
    pub fn customer_id(&self) -> Option<String> {
        match self {
            Self::Customer(id) => Some(id.clone()),
            Self::Guest { email, .. } => email.as_ref().map(guest_customer_id),
        }
    }

    pub fn cart_holder(&self) -> CartHolder {
        match self {
            Self::Customer(id) => CartHolder::User(id.clone()),
            Self::Guest { cart_token, .. } => CartHolder::Guest(cart_token.clone()),
        }
    }

    /// The guest cart's token; none for a customer.
    pub fn cart_token(&self) -> Option<&str> {
        match self {
            Self::Customer(_) => None,
            Self::Guest { cart_token, .. } => Some(cart_token),
        }
    }
}

pub fn guest_customer_id(email: &Email) -> String {
    primitives::id::derived_id(GUEST, email.as_str(), 13)
}

/// Whether an order's customer id is a guest's (not a user's).
pub fn is_guest(customer_id: &str) -> bool {
    customer_id
        .strip_prefix(GUEST)
        .is_some_and(|rest| rest.starts_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_is_one_customer_per_email_however_it_is_written() {
        let buyer = |email: &str| Buyer::Guest {
            email: Some(Email::parse(email).unwrap()),
            cart_token: "gct_x".into(),
        };
        let id = buyer("ada@example.com").customer_id().unwrap();
        assert_eq!(buyer(" Ada@Example.COM ").customer_id(), Some(id.clone()));
        assert_ne!(buyer("grace@example.com").customer_id(), Some(id.clone()));
        assert!(is_guest(&id), "{id}");
        assert!(!is_guest("usr_01JD3Z0000000000000000000"));
        let anonymous = Buyer::Guest {
            email: None,
            cart_token: "gct_x".into(),
        };
        assert_eq!(anonymous.customer_id(), None);
    }
}
