//! The topics shipping consumes, one module each (named after the topic).

pub mod order_paid;
