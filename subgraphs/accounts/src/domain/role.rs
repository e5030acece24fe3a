use async_graphql::Enum;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Self::Customer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// Scopes an access token carries for this role.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Self::Customer => &[],
            Self::Admin => &[auth::ADMIN_SCOPE],
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
        .map(|raw| Role::parse(raw).ok_or_else(|| UnknownRole(raw.into())))
        .collect()
}
