//! Staff roles: named groups of permissions that staff members hold.

use auth::Permission;

/// The role the first migration gave every existing admin, holding every permission; the
/// `create-admin` command gives it too.
pub const ADMINISTRATOR_ROLE_ID: &str = "srole_administrator";
pub const ADMINISTRATOR_ROLE_NAME: &str = "Administrator";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRole {
    pub id: String,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StaffRole {
    pub fn grants(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffRoleError {
    #[error("a role name is 1 to 64 characters")]
    Name,
    #[error("a role grants at least one permission")]
    NoPermission,
}

pub fn parse_name(raw: &str) -> Result<String, StaffRoleError> {
    let name = raw.trim();
    if (1..=64).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(name.to_string())
    } else {
        Err(StaffRoleError::Name)
    }
}

/// The permissions sorted, without repeats; at least one.
pub fn parse_permissions(raw: &[Permission]) -> Result<Vec<Permission>, StaffRoleError> {
    let mut permissions = raw.to_vec();
    permissions.sort();
    permissions.dedup();
    if permissions.is_empty() {
        return Err(StaffRoleError::NoPermission);
    }
    Ok(permissions)
}
