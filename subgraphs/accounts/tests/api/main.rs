//! Accounts contract tests: the store against every database backend.

mod store_contract;
