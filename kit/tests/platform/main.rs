//! kit's own integration tests: the event bus contract on every backend.

mod events_contract;
