//! The events recommendations learns from: paid orders (what was bought together, and by whom)
//! and the catalog's product changes (what is for sale). Each struct is the part read.

use event_bus::consumer::{Handler, HandlerError};
use event_bus::{Event, Fact};
use serde::{Deserialize, Serialize};

use crate::store::RecommendationStore;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    product_id: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderPaid {
    order_id: String,
    customer_id: String,
    lines: Vec<Line>,
}

impl Fact for OrderPaid {
    const TOPIC: &'static str = "order.paid";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductChanged {
    product_id: String,
    status: String,
}

impl Fact for ProductChanged {
    const TOPIC: &'static str = "product.changed";
    const VERSION: u32 = 1;

    fn aggregate_id(&self) -> String {
        self.product_id.clone()
    }
}

pub const TOPICS: [&str; 2] = [OrderPaid::TOPIC, ProductChanged::TOPIC];

pub struct Learner(pub RecommendationStore);

#[async_trait::async_trait]
impl Handler for Learner {
    async fn handle(&self, event: &Event) -> Result<(), HandlerError> {
        let retry = |e: sqlx::Error| HandlerError::Retry(e.to_string());
        match event.topic.as_str() {
            OrderPaid::TOPIC => {
                let paid: OrderPaid = event.decode()?;
                let products: Vec<String> = paid.lines.into_iter().map(|l| l.product_id).collect();
                self.0
                    .record_order(&event.id, &paid.customer_id, &products, event.time)
                    .await
                    .map_err(retry)?;
            }
            ProductChanged::TOPIC => {
                let changed: ProductChanged = event.decode()?;
                self.0
                    .record_status(&changed.product_id, changed.status == "ACTIVE", event.time)
                    .await
                    .map_err(retry)?;
            }
            other => {
                return Err(HandlerError::Reject(format!(
                    "recommendations does not read {other}"
                )))
            }
        }
        Ok(())
    }
}
