//! Accounts tests: the store contract against every database backend, signing-key rotation.

mod rotation;
mod store_contract;
