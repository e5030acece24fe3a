//! The shipping service: rate quotes (weights from the catalog), shipments for paid orders
//! (at once, or by an admin), and tracking events from carriers or admins. Errors are
//! [`ShippingError`]; the GraphQL layer turns them into userErrors or GraphQL errors.

use crate::domain::variant_of;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce::address::{parse_address, AddressInput, InvalidAddress};
use web::client::{ServiceClient, ServiceError};

use crate::config::ShippingSettings;
use crate::domain::rates::Quote;
use crate::domain::status::ShipmentStatus;
use crate::store::{
    FulfilRefused, NewTrackingEvent, Recorded, Shipment, ShipmentPlan, ShippableOrder,
    ShippingStore, StoreError,
};
use events::common::Line;

/// Lines per quote or shipment, and units per line: a cart's limits.
pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 99;
/// Tracking descriptions and locations are cut to this many characters.
const MAX_TEXT: usize = 500;
/// How long a variant's weight from the catalog is used before it is asked again: weights
/// rarely change, and a checkout rush on one product would otherwise ask once per checkout.
const WEIGHT_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    #[error("address: {0}")]
    InvalidAddress(#[from] InvalidAddress),
    #[error("give between 1 and {MAX_LINES} lines")]
    LineCount,
    #[error("quantities must be between 1 and {MAX_QUANTITY} (variant {0})")]
    Quantity(String),
    #[error("unknown or unavailable variants: {}", .0.join(", "))]
    UnknownProducts(Vec<String>),
    #[error("no service {service:?} of carrier {carrier:?} takes this parcel")]
    UnknownService { carrier: String, service: String },
    #[error("no paid order with this id")]
    UnknownOrder,
    #[error(
        "variant {variant_id} is not in the order or has fewer than {quantity} units left to ship"
    )]
    MoreThanOrdered { variant_id: String, quantity: i64 },
    #[error("no shipment with this id")]
    UnknownShipment,
    #[error("no shipment has this tracking number")]
    UnknownTracking,
    #[error("`occurredAt` must be an RFC 3339 time")]
    InvalidTime,
    #[error("`occurredAt` is in the future")]
    FutureTime,
    #[error("catalog: {0}")]
    Catalog(#[from] ServiceError),
    #[error("the catalog answered with something unreadable: {0}")]
    CatalogUnreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rates: {0}")]
    Rates(#[from] crate::domain::rates::RateTableError),
    #[error("{0}")]
    Unshippable(#[from] crate::domain::rates::Unshippable),
}

pub type ShippingResult<T> = Result<T, ShippingError>;

impl From<FulfilRefused> for ShippingError {
    fn from(refused: FulfilRefused) -> Self {
        match refused {
            FulfilRefused::UnknownOrder => Self::UnknownOrder,
            FulfilRefused::MoreThanOrdered {
                variant_id,
                quantity,
            } => Self::MoreThanOrdered {
                variant_id,
                quantity,
            },
            FulfilRefused::Store(e) => Self::Store(e),
        }
    }
}

/// A tracking update as an admin or a carrier gives it.
#[derive(Clone, Debug)]
pub struct TrackingUpdate {
    pub status: ShipmentStatus,
    pub description: Option<String>,
    pub location: Option<String>,
    /// RFC 3339; now when not given.
    pub occurred_at: Option<String>,
}

pub struct ShippingService {
    pub store: ShippingStore,
    settings: ShippingSettings,
    catalog: Arc<ServiceClient>,
    /// Grams of active products by id, with when the catalog said so.
    weights: Mutex<HashMap<String, (u64, Instant)>>,
    /// Held while the catalog is asked for weights.
    lookup: tokio::sync::Mutex<()>,
}

impl ShippingService {
    pub fn new(
        store: ShippingStore,
        settings: ShippingSettings,
        catalog: Arc<ServiceClient>,
    ) -> Self {
        Self {
            store,
            settings,
            catalog,
            weights: Mutex::new(HashMap::new()),
            lookup: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> &ShippingSettings {
        &self.settings
    }

    /// Every service that carries these lines to `address`, cheapest first. The parcel weighs
    /// what the catalog says of each product (the default weight where it says nothing). When
    /// none does, [`ShippingError::Unshippable`] says why.
    pub async fn quote(&self, address: AddressInput, lines: &[Line]) -> ShippingResult<Vec<Quote>> {
        let address = parse_address(address)?;
        check_lines(lines)?;
        let grams = self.weigh(lines).await?;
        let quotes = self.settings.rates.quote(&address.country_code, grams)?;
        if quotes.is_empty() {
            return Err(self
                .settings
                .rates
                .unshippable(&address.country_code, grams)
                .into());
        }
        Ok(quotes)
    }

    /// The remembered weights of the lines' variants, and the variants not remembered.
    fn remembered(&self, lines: &[Line]) -> (HashMap<String, u64>, Vec<String>) {
        let cache = self
            .weights
            .lock()
            .expect("the weight cache is never poisoned");
        let mut known = HashMap::new();
        let mut missing = Vec::new();
        for line in lines {
            let variant = variant_of(line);
            match cache.get(&variant) {
                Some((grams, at)) if at.elapsed() < WEIGHT_TTL => {
                    known.insert(variant, *grams);
                }
                _ => missing.push(variant),
            }
        }
        missing.sort();
        missing.dedup();
        (known, missing)
    }

    /// The parcel's weight in grams, from the catalog's variants on sale.
    async fn weigh(&self, lines: &[Line]) -> ShippingResult<u32> {
        let weights = self.weights_of(lines).await?;
        let total: u64 = lines
            .iter()
            .map(|l| weights[&variant_of(l)] * l.quantity as u64)
            .sum();
        Ok(u32::try_from(total).unwrap_or(u32::MAX))
    }

    /// Each line's variant's weight: remembered ones, the rest from the catalog in one call.
    async fn weights_of(&self, lines: &[Line]) -> ShippingResult<HashMap<String, u64>> {
        let (mut known, missing) = self.remembered(lines);
        if missing.is_empty() {
            return Ok(known);
        }
        // One lookup at a time: a rush of quotes for a variant not remembered yet asks the
        // catalog once, the others find it remembered.
        let _lookup = self.lookup.lock().await;
        let (found, ids) = self.remembered(lines);
        known.extend(found);
        if ids.is_empty() {
            return Ok(known);
        }
        let entities = self
            .catalog
            .entities(
                &self.settings.catalog_url,
                "ProductVariant",
                &ids,
                "id status weightGrams product { status }",
            )
            .await?;
        let mut weights = Vec::new();
        for entity in entities.iter().filter(|e| !e.is_null()) {
            let unreadable = || ShippingError::CatalogUnreadable(entity.to_string());
            let id = entity["id"].as_str().ok_or_else(unreadable)?;
            let on_sale = entity["status"].as_str() == Some("ACTIVE")
                && entity["product"]["status"].as_str() == Some("ACTIVE");
            if !on_sale {
                continue;
            }
            let grams = match &entity["weightGrams"] {
                serde_json::Value::Null => u64::from(self.settings.default_weight_grams),
                value => value.as_u64().ok_or_else(unreadable)?,
            };
            weights.push((id.to_string(), grams));
        }
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !weights.iter().any(|(w, _)| w == *id))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(ShippingError::UnknownProducts(unknown));
        }
        let now = Instant::now();
        let mut cache = self
            .weights
            .lock()
            .expect("the weight cache is never poisoned");
        // Old entries go when the cache grows, so it holds about the variants sold lately.
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < WEIGHT_TTL);
        }
        for (id, grams) in weights {
            cache.insert(id.clone(), (grams, now));
            known.insert(id, grams);
        }
        Ok(known)
    }

    /// A paid order arrived (`order.paid`, once per event): recorded, and shipped at once with
    /// the carrier service the customer chose unless admins fulfil orders by hand.
    pub async fn order_paid(&self, event_id: &str, order: &ShippableOrder) -> ShippingResult<()> {
        let plan = self.settings.auto_fulfil.then(|| ShipmentPlan {
            carrier: order.carrier.clone(),
            service: order.service.clone(),
            lines: order.lines.clone(),
        });
        self.store.record_paid_order(event_id, order, plan).await?;
        Ok(())
    }

    /// Ships lines of a paid order by hand (several shipments, other carriers), up to what
    /// is left to ship.
    pub async fn fulfil(
        &self,
        order_id: &str,
        plans: &[ShipmentPlan],
        admin_id: &str,
    ) -> ShippingResult<Vec<Shipment>> {
        if plans.is_empty() {
            return Err(ShippingError::LineCount);
        }
        for plan in plans {
            check_lines(&plan.lines)?;
            self.check_service(&plan.carrier, &plan.service)?;
        }
        let shipments = self.store.fulfil(order_id, plans, admin_id).await?;
        Ok(shipments)
    }

    fn check_service(&self, carrier: &str, service: &str) -> ShippingResult<()> {
        let known = self
            .settings
            .rates
            .carriers
            .iter()
            .filter(|c| c.code == carrier)
            .any(|c| c.services.iter().any(|s| s.code == service));
        if known {
            Ok(())
        } else {
            Err(ShippingError::UnknownService {
                carrier: carrier.into(),
                service: service.into(),
            })
        }
    }

    /// Records a tracking event reported by a carrier (`event_id` is the carrier's): once, in
    /// any order.
    /// A carrier's event: recorded once, if its carrier is the tracking number's.
    pub async fn carrier_event(
        &self,
        carrier: &str,
        carrier_event_id: &str,
        tracking_number: &str,
        update: TrackingUpdate,
    ) -> ShippingResult<Recorded> {
        let event = new_event(format!("carrier:{carrier}:{carrier_event_id}"), update)?;
        self.record(tracking_number, Some(carrier), &event).await
    }

    /// Keeps a carrier event that does not fit its shipment for a person.
    pub async fn keep_for_review(
        &self,
        event_id: &str,
        tracking_number: &str,
        reason: &str,
        body: &[u8],
    ) -> ShippingResult<()> {
        Ok(self
            .store
            .keep_for_review(event_id, tracking_number, reason, body)
            .await?)
    }

    /// An admin's tracking update (a carrier without webhooks, a correction).
    pub async fn admin_update(
        &self,
        shipment_id: &str,
        update: TrackingUpdate,
    ) -> ShippingResult<Shipment> {
        let shipment = self
            .store
            .by_ids(&[shipment_id.to_string()])
            .await?
            .pop()
            .ok_or(ShippingError::UnknownShipment)?;
        let event = new_event(primitives::id::new_id("trk"), update)?;
        match self.record(&shipment.tracking_number, None, &event).await? {
            Recorded::Recorded(shipment) => Ok(*shipment),
            Recorded::Duplicate | Recorded::UnknownTracking | Recorded::OtherCarrier(_) => {
                Err(ShippingError::UnknownShipment)
            }
        }
    }

    async fn record(
        &self,
        tracking_number: &str,
        carrier: Option<&str>,
        event: &NewTrackingEvent,
    ) -> ShippingResult<Recorded> {
        let recorded = self
            .store
            .record_tracking(tracking_number, carrier, event)
            .await?;
        Ok(recorded)
    }
}

fn check_lines(lines: &[Line]) -> ShippingResult<()> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(ShippingError::LineCount);
    }
    match lines
        .iter()
        .find(|l| !(1..=MAX_QUANTITY).contains(&l.quantity))
    {
        Some(line) => Err(ShippingError::Quantity(variant_of(line))),
        None => Ok(()),
    }
}

/// How far ahead of this clock an event's time may be (the sender's clock may run ahead).
const MAX_CLOCK_SKEW_MILLIS: i64 = 5 * 60 * 1000;

fn new_event(id: String, update: TrackingUpdate) -> ShippingResult<NewTrackingEvent> {
    let now = primitives::time::now_millis();
    let occurred_at = match update.occurred_at.as_deref() {
        Some(text) => primitives::time::parse_millis(text).ok_or(ShippingError::InvalidTime)?,
        None => now,
    };
    // An event dated ahead would stay the latest for good, pinning the shipment's status.
    if occurred_at > now + MAX_CLOCK_SKEW_MILLIS {
        return Err(ShippingError::FutureTime);
    }
    let text = |value: Option<String>| {
        value
            .map(|v| v.trim().chars().take(MAX_TEXT).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    Ok(NewTrackingEvent {
        id,
        status: update.status,
        description: text(update.description)
            .unwrap_or_else(|| update.status.default_description().into()),
        location: text(update.location),
        occurred_at,
    })
}
