use async_graphql::Enum;
use auth::Permission;

/// What a user is. Every user is a customer; a user holding a staff role is also staff (never
/// stored: it follows from the roles held).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Customer,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Staff => auth::STAFF_ROLE,
        }
    }

    /// The stored roles: only `customer` is stored.
    fn parse_stored(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }
}

/// Roles as stored: space-separated names.
pub fn encode(roles: &[Role]) -> String {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stored role that is not one of ours: the row is corrupt (never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored role {0:?} is unknown")]
pub struct UnknownRole(pub String);

pub fn decode(stored: &str) -> Result<Vec<Role>, UnknownRole> {
    stored
        .split_whitespace()
        .map(|raw| Role::parse_stored(raw).ok_or_else(|| UnknownRole(raw.into())))
        .collect()
}

/// What a user's access tokens grant: their roles and, for staff, the permissions of the staff
/// roles they hold (the token's scopes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grants {
    pub roles: Vec<Role>,
    pub permissions: Vec<Permission>,
}

impl Grants {
    /// From the stored roles and the permissions of the staff roles held (any order, repeats
    /// allowed): staff when there is any permission.
    pub fn new(stored: &[Role], mut permissions: Vec<Permission>) -> Self {
        permissions.sort();
        permissions.dedup();
        let mut roles = stored.to_vec();
        if !permissions.is_empty() {
            roles.push(Role::Staff);
        }
        roles.sort();
        roles.dedup();
        Self { roles, permissions }
    }

    /// A staff member whose permissions wait for a second factor: staff, holding none.
    pub fn withheld(stored: &[Role]) -> Self {
        let mut roles = stored.to_vec();
        roles.push(Role::Staff);
        roles.sort();
        roles.dedup();
        Self {
            roles,
            permissions: Vec::new(),
        }
    }

    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.as_str().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_follows_from_permissions() {
        let customer = Grants::new(&[Role::Customer], Vec::new());
        assert_eq!(customer.roles, [Role::Customer]);
        let staff = Grants::new(
            &[Role::Customer],
            vec![
                Permission::OrdersRefund,
                Permission::CatalogWrite,
                Permission::OrdersRefund,
            ],
        );
        assert_eq!(staff.roles, [Role::Customer, Role::Staff]);
        assert_eq!(
            staff.permissions,
            [Permission::CatalogWrite, Permission::OrdersRefund]
        );
        assert_eq!(decode("customer"), Ok(vec![Role::Customer]));
        assert_eq!(decode("customer admin"), Err(UnknownRole("admin".into())));
    }
}
