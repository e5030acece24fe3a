//! Validated account values: once constructed they are valid everywhere.

pub mod audit;
pub mod clients;
pub mod mfa;
pub mod password;
pub mod profile;
pub mod role;
pub mod staff;
pub mod tokens;

pub use commerce::email::{self, Email};
pub use password::Password;
pub use role::{Grants, Role};
