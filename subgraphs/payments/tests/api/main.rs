//! Payments tests: the built-in test provider over real HTTP, its signed webhooks received by a
//! real endpoint.

mod provider;
