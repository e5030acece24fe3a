//! Payments. So far the provider side: the [`provider::PaymentProvider`] trait, its HTTP client,
//! and a built-in test provider that behaves like a real one over HTTP (tokens instead of card
//! numbers, asynchronous results by signed webhooks, retried, sometimes twice). The payments
//! subgraph (Payment, refunds, webhook intake) comes with checkout (issue 9).

pub mod provider;
