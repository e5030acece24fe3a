//! Who works out an order's tax. The built-in [`TableTaxes`] uses the shop's rates (the
//! configuration's with admins' laid over them); an external tax engine plugs in by
//! implementing [`TaxProvider`] and being given to [`crate::Orders::build_with_taxes`].

use std::sync::Arc;

use commerce::tax::{Destination, TaxBreakdown, TaxRule, TaxTable, TaxableLine};

use crate::domain::totals::{table_tax, TaxSettings};
use crate::store::{OrderStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TaxProviderError {
    /// The lines cannot be taxed as given (a bug in what made them).
    #[error(transparent)]
    Tax(#[from] commerce::tax::TaxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An external engine did not answer: the checkout can be sent again.
    #[error("the tax service did not answer: {0}")]
    Unavailable(String),
}

/// What to tax: the order's lines after discounts, then its shipping, each with its class.
#[derive(Clone, Copy, Debug)]
pub struct TaxRequest<'a> {
    pub lines: &'a [TaxableLine],
    pub destination: &'a Destination,
    pub settings: TaxSettings,
}

#[async_trait::async_trait]
pub trait TaxProvider: Send + Sync {
    /// The tax of each of `request.lines` (none for an untaxed one) and per rate.
    async fn tax(&self, request: TaxRequest<'_>) -> Result<TaxBreakdown, TaxProviderError>;
}

/// The rates in force: the configured ones with those admins set laid over them.
pub async fn rates_in_force(
    store: &OrderStore,
    configured: &TaxTable,
) -> Result<TaxTable, StoreError> {
    with_admin_rates(configured, store.tax_rates().await?)
}

/// The configured rates with the admins' laid over them.
pub fn with_admin_rates(
    configured: &TaxTable,
    admins: Vec<TaxRule>,
) -> Result<TaxTable, StoreError> {
    let mut table = configured.clone();
    for rule in admins {
        table.set(rule).map_err(|error| StoreError::Corrupt {
            id: "tax_rates".into(),
            what: error.to_string(),
        })?;
    }
    Ok(table)
}

/// The built-in provider: the shop's own rates, by destination and class.
pub struct TableTaxes {
    store: OrderStore,
    configured: TaxTable,
}

impl TableTaxes {
    pub fn new(store: OrderStore, configured: TaxTable) -> Arc<Self> {
        Arc::new(Self { store, configured })
    }
}

#[async_trait::async_trait]
impl TaxProvider for TableTaxes {
    async fn tax(&self, request: TaxRequest<'_>) -> Result<TaxBreakdown, TaxProviderError> {
        let table = rates_in_force(&self.store, &self.configured).await?;
        Ok(table_tax(
            &table,
            request.lines,
            request.destination,
            request.settings,
        )?)
    }
}
