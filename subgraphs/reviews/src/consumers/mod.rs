//! The topics reviews consumes, one module each (named after the topic).

pub mod shipment_updated;
