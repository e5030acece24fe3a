//! What the catalog publishes.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// `product.changed`: a product was created or changed (any field, including its status).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductChanged {
    pub product_id: String,
    /// The status after the change (`ACTIVE`, `DRAFT`, `ARCHIVED`).
    pub status: String,
}

impl Fact for ProductChanged {
    const TOPIC: &'static str = "product.changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.product_id.clone()
    }
}
