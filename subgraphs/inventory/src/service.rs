//! Inventory rules applied to storage: input is parsed into domain values here, and the store
//! moves the stock (with the events a change raises, in its transaction).

use std::sync::Arc;

use primitives::id::new_id;
use primitives::time::now_millis;

use crate::catalog::{CatalogClient, ProductVariants};
use crate::config::InventorySettings;
use crate::domain::{self, AdjustmentKind, Quantity, ReservationStatus, RuleError};
use crate::store::{
    AdjustOutcome, Adjustment, AdjustmentRequest, InventoryStore, LowStock, Reservation,
    ReserveOutcome, ShortLine, StockItem, StockLevel, StoreError, TransitionOutcome, Warehouse,
};

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("no warehouse with this id")]
    UnknownWarehouse,
    #[error("the catalog has no product with this id")]
    UnknownProduct,
    #[error("the catalog has no variant with this id")]
    UnknownVariant,
    #[error("this product has {0} variants on sale: name one with variantId")]
    VariantRequired(usize),
    #[error(transparent)]
    Catalog(#[from] web::client::ServiceError),
    #[error("a warehouse with this code exists")]
    CodeTaken,
    #[error(
        "stock cannot go below zero or below the {reserved} reserved units (on hand: {on_hand})"
    )]
    NegativeStock { on_hand: i64, reserved: i64 },
    #[error("not enough stock: {}", short_lines(.0))]
    InsufficientStock(Vec<ShortLine>),
    #[error("no reservation for this order reference")]
    ReservationNotFound,
    #[error("the reservation is {}", .0.as_str())]
    ReservationClosed(ReservationStatus),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for InventoryError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::DuplicateCode => Self::CodeTaken,
            other => Self::Store(other),
        }
    }
}

fn short_lines(lines: &[ShortLine]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "{} ({} wanted, {} available)",
                l.variant_id, l.wanted, l.available
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub type InventoryResult<T> = Result<T, InventoryError>;

/// Which variant an admin's change is for: a variant, or a product with exactly one variant
/// that is not archived (a product without options).
#[derive(Clone, Debug, Default)]
pub struct StockTarget {
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
}

/// An admin's adjustment as entered.
pub struct AdjustmentInput {
    pub target: StockTarget,
    pub warehouse_id: String,
    pub kind: AdjustmentKind,
    pub quantity: i64,
    pub reason: String,
    pub idempotency_key: String,
}

pub struct InventoryService {
    pub store: Arc<InventoryStore>,
    pub catalog: CatalogClient,
    pub settings: InventorySettings,
}

impl InventoryService {
    pub fn new(
        store: Arc<InventoryStore>,
        catalog: CatalogClient,
        settings: InventorySettings,
    ) -> Self {
        Self {
            store,
            catalog,
            settings,
        }
    }

    /// The variant (and its product) a target names, as the catalog has them.
    async fn known_variant(&self, target: &StockTarget) -> InventoryResult<(String, String)> {
        if let Some(raw) = &target.variant_id {
            let variant_id = domain::parse_variant_id(raw)?;
            let product_id = self
                .catalog
                .product_of(&variant_id)
                .await?
                .ok_or(InventoryError::UnknownVariant)?;
            if target.product_id.as_ref().is_some_and(|p| *p != product_id) {
                return Err(InventoryError::UnknownVariant);
            }
            return Ok((variant_id, product_id));
        }
        let raw = target.product_id.as_deref().unwrap_or_default();
        let product_id = domain::parse_product_id(raw)?;
        match self.catalog.variants_of(&product_id).await? {
            ProductVariants::Unknown => Err(InventoryError::UnknownProduct),
            ProductVariants::Variants(mut variants) if variants.len() == 1 => {
                Ok((variants.remove(0), product_id))
            }
            ProductVariants::Variants(variants) => {
                Err(InventoryError::VariantRequired(variants.len()))
            }
        }
    }

    pub async fn create_warehouse(&self, code: &str, name: &str) -> InventoryResult<Warehouse> {
        let warehouse = Warehouse {
            id: new_id("wh"),
            code: domain::parse_warehouse_code(code)?,
            name: domain::parse_name(name)?,
            active: true,
            created_at: now_millis(),
        };
        self.store.create_warehouse(&warehouse).await?;
        Ok(warehouse)
    }

    pub async fn update_warehouse(
        &self,
        id: &str,
        name: Option<&str>,
        active: Option<bool>,
    ) -> InventoryResult<Warehouse> {
        let name = name.map(domain::parse_name).transpose()?;
        let updated = self
            .store
            .update_warehouse(id, name.as_deref(), active)
            .await?
            .ok_or(InventoryError::UnknownWarehouse)?;
        Ok(updated)
    }

    /// Applies an admin's adjustment; a repeated idempotency key returns the first one.
    /// An adjustment by `staff`, recorded in the stock ledger and the audit trail together.
    pub async fn adjust(
        &self,
        staff: &kit::audit::Auditor,
        input: AdjustmentInput,
    ) -> InventoryResult<Adjustment> {
        if input.kind == AdjustmentKind::Sale {
            return Err(RuleError::Quantity { max: 0 }.into());
        }
        let delta = input.kind.delta(input.quantity)?;
        let reason = domain::parse_reason(&input.reason)?;
        let idempotency_key = domain::parse_key(&input.idempotency_key)?;
        let (variant_id, product_id) = self.known_variant(&input.target).await?;
        let request = AdjustmentRequest {
            variant_id,
            product_id,
            warehouse_id: input.warehouse_id,
            kind: input.kind,
            delta,
            reason,
            staff: staff.clone(),
            idempotency_key,
        };
        match self.store.adjust(&request).await? {
            AdjustOutcome::Applied(adjustment) => Ok(adjustment),
            AdjustOutcome::Repeated(adjustment) => Ok(adjustment),
            AdjustOutcome::UnknownWarehouse => Err(InventoryError::UnknownWarehouse),
            AdjustOutcome::WouldGoNegative { on_hand, reserved } => {
                Err(InventoryError::NegativeStock { on_hand, reserved })
            }
        }
    }

    pub async fn set_threshold(
        &self,
        target: &StockTarget,
        threshold: i64,
    ) -> InventoryResult<i64> {
        let threshold = domain::parse_threshold(threshold)?;
        let (variant_id, _) = self.known_variant(target).await?;
        self.store.set_threshold(&variant_id, threshold).await?;
        Ok(threshold)
    }

    /// The stock ledger of a product (all its variants) or of one variant, newest first.
    pub async fn adjustments(
        &self,
        target: &StockTarget,
        before: Option<&str>,
        limit: usize,
    ) -> InventoryResult<Vec<Adjustment>> {
        let item = match (&target.variant_id, &target.product_id) {
            (Some(variant), _) => StockItem::Variant(domain::parse_variant_id(variant)?),
            (None, Some(product)) => StockItem::Product(domain::parse_product_id(product)?),
            (None, None) => return Err(RuleError::ProductId(String::new()).into()),
        };
        Ok(self.store.adjustments(&item, before, limit).await?)
    }

    pub async fn levels_of_products(
        &self,
        product_ids: &[String],
    ) -> InventoryResult<Vec<StockLevel>> {
        Ok(self.store.levels_of_products(product_ids).await?)
    }

    pub async fn levels_of_variants(
        &self,
        variant_ids: &[String],
    ) -> InventoryResult<Vec<StockLevel>> {
        Ok(self.store.levels_of_variants(variant_ids).await?)
    }

    pub async fn low_stock(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> InventoryResult<Vec<LowStock>> {
        Ok(self.store.low_stock(after, limit).await?)
    }

    /// Holds stock for every line or none; a repeated order reference returns the first
    /// reservation.
    pub async fn reserve(
        &self,
        order_reference: &str,
        lines: &[(String, i64)],
    ) -> InventoryResult<Reservation> {
        let order_reference = domain::parse_key(order_reference)?;
        const MAX_LINES: usize = 100;
        if lines.is_empty() || lines.len() > MAX_LINES {
            return Err(RuleError::Lines { max: MAX_LINES }.into());
        }
        let mut parsed = Vec::with_capacity(lines.len());
        for (variant_id, quantity) in lines {
            let variant_id = domain::parse_variant_id(variant_id)?;
            if parsed.iter().any(|(v, _)| *v == variant_id) {
                return Err(RuleError::Lines { max: MAX_LINES }.into());
            }
            parsed.push((variant_id, Quantity::parse(*quantity)?.get()));
        }
        let expires_at = now_millis() + self.settings.reservation_ttl.as_millis() as i64;
        match self
            .store
            .reserve(&order_reference, &parsed, expires_at)
            .await?
        {
            ReserveOutcome::Reserved(reservation) => Ok(reservation),
            ReserveOutcome::Existing(reservation) => Ok(reservation),
            ReserveOutcome::Short(lines) => Err(InventoryError::InsufficientStock(lines)),
        }
    }

    pub async fn reservation(&self, order_reference: &str) -> InventoryResult<Reservation> {
        self.store
            .reservation(order_reference)
            .await?
            .ok_or(InventoryError::ReservationNotFound)
    }

    pub async fn confirm(&self, order_reference: &str) -> InventoryResult<Reservation> {
        let outcome = self.store.confirm(order_reference).await?;
        self.settle(outcome)
    }

    /// A confirmed reservation's units go back into stock (a cancelled order).
    pub async fn return_stock(&self, order_reference: &str) -> InventoryResult<Reservation> {
        let outcome = self.store.return_confirmed(order_reference).await?;
        self.settle(outcome)
    }

    pub async fn release(&self, order_reference: &str) -> InventoryResult<Reservation> {
        let outcome = self
            .store
            .release(order_reference, ReservationStatus::Released)
            .await?;
        self.settle(outcome)
    }

    fn settle(&self, outcome: TransitionOutcome) -> InventoryResult<Reservation> {
        match outcome {
            TransitionOutcome::Done(reservation) => Ok(reservation),
            TransitionOutcome::Already(reservation) => Ok(reservation),
            TransitionOutcome::Refused(reservation) => {
                Err(InventoryError::ReservationClosed(reservation.status))
            }
            TransitionOutcome::NotFound => Err(InventoryError::ReservationNotFound),
        }
    }

    /// Releases every reservation whose hold ran out; returns how many.
    pub async fn expire_due(&self) -> InventoryResult<usize> {
        let mut expired = 0;
        loop {
            let due = self.store.expired_reservations(now_millis(), 100).await?;
            if due.is_empty() {
                break;
            }
            for reference in &due {
                // A confirm racing the expiry wins or loses atomically: Refused/Already are fine.
                if let TransitionOutcome::Done(_) = self
                    .store
                    .release(reference, ReservationStatus::Expired)
                    .await?
                {
                    expired += 1;
                }
            }
        }
        Ok(expired)
    }
}
