//! The topics orders consumes, one module each (named after the topic).

pub mod email_verified;
pub mod payment_updated;
pub mod shipment_updated;
