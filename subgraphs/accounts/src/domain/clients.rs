//! API clients (internal services, later partners): names and the scopes a client may hold.

use kit::auth::SERVICE_SCOPE;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("client names are 1 to 64 letters, digits, dashes or underscores")]
    Name,
    #[error("unknown scope {0:?}: clients may hold {SERVICE_SCOPE:?}")]
    Scope(String),
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

/// The scopes, sorted and without repeats; only scopes meant for clients (never `admin`).
pub fn parse_scopes(raw: &[String]) -> Result<Vec<String>, ClientError> {
    let mut scopes = Vec::new();
    for scope in raw {
        if scope != SERVICE_SCOPE {
            return Err(ClientError::Scope(scope.clone()));
        }
        scopes.push(scope.clone());
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_get_only_client_scopes() {
        assert_eq!(
            parse_scopes(&["service".into(), "service".into()]).unwrap(),
            vec!["service"]
        );
        assert!(parse_scopes(&["admin".into()]).is_err());
        assert_eq!(parse_name(" carts ").unwrap(), "carts");
        assert!(parse_name("no spaces").is_err());
    }
}
