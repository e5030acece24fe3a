//! kit's own integration tests: the event bus contract on every backend, idempotent commands.

mod events_contract;
mod idempotency;
