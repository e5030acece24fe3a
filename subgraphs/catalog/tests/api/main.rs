//! Catalog contract tests: the store against every database backend, the search engines against
//! one behavioural contract.

mod search_contract;
mod store_contract;
