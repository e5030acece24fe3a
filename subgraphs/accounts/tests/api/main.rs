//! Accounts tests: the store contract against every database backend, signing-key rotation, API
//! clients and their tokens.

mod abuse;
mod audit;
mod clients;
mod mfa;
mod rotation;
mod signup;
mod staff;
mod store_contract;
