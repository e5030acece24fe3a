//! What every crate of the shop shares and nothing else: opaque IDs, secrets and digests
//! ([`id`]), millisecond timestamps ([`time`]), the signal background tasks stop on
//! ([`stop`]) and errors as text ([`error`]).

pub mod error;
pub mod id;
pub mod stop;
pub mod time;
