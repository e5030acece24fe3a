//! What every crate of the shop shares and nothing else: opaque IDs, secrets and digests
//! ([`id`]), millisecond timestamps ([`time`]) and the signal background tasks stop on
//! ([`stop`]).

pub mod id;
pub mod stop;
pub mod time;
