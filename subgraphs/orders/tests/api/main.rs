//! Orders tests: the subgraph alone (no other subgraph running), on PostgreSQL and SQLite.
//! Checkout journeys across subgraphs stay in `launcher/tests/shop/`.

mod alone;
mod checkout;
mod fakes;
mod guests;
mod payment_actions;
mod promotions;
mod store_contract;
mod taxes;
