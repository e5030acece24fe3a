//! Orders. So far the domain every later part stands on: the order state machine (who may move
//! an order where) and order totals in integer minor units. The subgraph, the checkout saga and
//! the admin API come with issue 9.

pub mod domain;
