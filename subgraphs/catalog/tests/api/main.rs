//! Catalog tests: its API alone, the store against every database backend, the search engines
//! against one behavioural contract.

mod api;
mod fuzz;
mod import;
mod search_contract;
mod store_contract;
mod variants;
