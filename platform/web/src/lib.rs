//! HTTP as every process of the shop speaks it: serving with limits against slow and idle
//! clients ([`serve`]), what every server does alike ([`server`]: request ids, spans, the
//! router's secret header, SIGTERM) and calls to other services ([`client`]).

pub mod client;
pub mod serve;
pub mod server;
#[cfg(feature = "testing")]
pub mod test_ca;
