//! Validated account values: once constructed they are valid everywhere.

pub mod clients;
pub mod email;
pub mod password;
pub mod profile;
pub mod role;
pub mod tokens;

pub use email::Email;
pub use password::Password;
pub use role::Role;
