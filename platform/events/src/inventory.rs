//! What inventory publishes.

use event_bus::Fact;
use serde::{Deserialize, Serialize};

/// `inventory.stock_low`: a variant's available stock fell to its low-stock threshold or below.
/// Published once per crossing: again only after the stock rose above the threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLow {
    /// The variant's product.
    pub product_id: String,
    /// Absent in events published before variants (stock was counted per product then).
    pub variant_id: Option<String>,
    pub available: i64,
    pub threshold: i64,
}

impl Fact for StockLow {
    const TOPIC: &'static str = "inventory.stock_low";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.product_id.clone()
    }
}
