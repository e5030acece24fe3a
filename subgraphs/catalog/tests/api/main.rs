//! Catalog tests: its API alone, the store against every database backend, the search engines
//! against one behavioural contract.

mod api;
mod attributes;
mod collections;
mod fuzz;
mod import;
mod media;
mod search_contract;
mod seo;
mod store_contract;
mod variants;
