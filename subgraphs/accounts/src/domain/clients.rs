//! API clients: internal services and partners, their names and the scopes each kind may hold.

use async_graphql::Enum;
use auth::{PARTNER_ROLE, SERVICE_SCOPE};

/// Scopes a partner may be given; the persisted operations published for partners say which
/// of them they need.
pub const PARTNER_SCOPES: &[&str] = &["catalog:read", "reviews:read"];

/// What a client is. Partners' tokens carry the `partner` role, so the router lets them run
/// only the operations published for partners.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// Another of our services (the `service` scope).
    Service,
    /// A third party on published (persisted) operations only.
    Partner,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Partner => "partner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "service" => Some(Self::Service),
            "partner" => Some(Self::Partner),
            _ => None,
        }
    }

    /// The roles its tokens carry.
    pub fn roles(self) -> Vec<String> {
        match self {
            Self::Service => Vec::new(),
            Self::Partner => vec![PARTNER_ROLE.to_string()],
        }
    }

    fn allows(self, scope: &str) -> bool {
        match self {
            Self::Service => scope == SERVICE_SCOPE,
            Self::Partner => PARTNER_SCOPES.contains(&scope),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("client names are 1 to 64 letters, digits, dashes or underscores")]
    Name,
    #[error("scope {scope:?} is not one a {kind} client may hold")]
    Scope { scope: String, kind: &'static str },
}

pub fn parse_name(raw: &str) -> Result<String, ClientError> {
    let name = raw.trim();
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name.to_string())
    } else {
        Err(ClientError::Name)
    }
}

/// The scopes, sorted and without repeats; only those meant for this kind (never a staff
/// permission).
pub fn parse_scopes(kind: ClientKind, raw: &[String]) -> Result<Vec<String>, ClientError> {
    let mut scopes = Vec::new();
    for scope in raw {
        let scope = scope.trim();
        if !kind.allows(scope) {
            return Err(ClientError::Scope {
                scope: scope.to_string(),
                kind: kind.as_str(),
            });
        }
        scopes.push(scope.to_string());
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_gets_only_its_own_scopes() {
        assert_eq!(
            parse_scopes(ClientKind::Service, &["service".into(), "service".into()]).unwrap(),
            vec!["service"]
        );
        assert!(parse_scopes(ClientKind::Service, &["admin".into()]).is_err());
        assert!(parse_scopes(ClientKind::Partner, &["service".into()]).is_err());
        assert!(parse_scopes(ClientKind::Partner, &["admin".into()]).is_err());
        assert_eq!(
            parse_scopes(
                ClientKind::Partner,
                &["reviews:read".into(), "catalog:read".into()]
            )
            .unwrap(),
            vec!["catalog:read", "reviews:read"]
        );
        assert_eq!(parse_name(" carts ").unwrap(), "carts");
        assert!(parse_name("no spaces").is_err());
    }
}
