//! What payments publishes.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// `payment.updated`: a payment's state changed (captured, failed, refunded); orders completes
/// or compensates its checkout from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentUpdated {
    pub payment_id: String,
    pub order_id: String,
    pub status: String,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
}

impl Fact for PaymentUpdated {
    const TOPIC: &'static str = "payment.updated";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}
