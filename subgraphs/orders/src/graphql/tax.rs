//! Tax as orders and previews show it (`TaxLine`), and the admin's tax settings and rates.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use auth::Permission;
use commerce::money::MoneyObject;
use commerce::tax::{format_percent, PricesInclude, TaxClass, TaxRounding, TaxRule};

use super::{service, user_error, viewer, OrderUserError};
use crate::domain;
use crate::domain::totals::TaxSettings;
use crate::service::TaxRateChange;

/// Tax at one rate: an order's or a preview's per rate, or one line's.
#[derive(SimpleObject, Clone, Debug)]
pub struct TaxLine {
    /// What receipts call it ("DE VAT 19%").
    pub name: String,
    /// A percentage ("19", "8.875").
    pub rate: String,
    pub amount: MoneyObject,
    /// What the rate was charged on, without tax.
    pub taxable: MoneyObject,
}

impl TaxLine {
    pub fn new(rate: &domain::TaxRate, amount: MoneyObject, taxable: MoneyObject) -> Self {
        Self {
            name: rate.name.clone(),
            rate: format_percent(rate.rate_ppm),
            amount,
            taxable,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxRateSource {
    /// From the orders' configuration (`ORDERS_TAX_RATES`); an admin's rate for the same place
    /// and class replaces it.
    Configuration,
    /// Set by an admin.
    Admin,
}

/// The rate a destination charges on a class of goods.
#[derive(SimpleObject, Clone, Debug)]
pub struct TaxRateRule {
    pub country_code: String,
    /// A state or province; null for the whole country.
    pub region: Option<String>,
    pub tax_class: TaxClass,
    /// A percentage ("19", "8.875").
    pub rate: String,
    pub name: String,
    pub source: TaxRateSource,
}

/// The shop's tax settings and the rates in force.
#[derive(SimpleObject, Clone, Debug)]
pub struct TaxConfiguration {
    /// Whether prices hold their tax (EU shops) or tax comes on top (US shops).
    pub prices_include_tax: bool,
    pub rounding: TaxRounding,
    /// What shipping is taxed as.
    pub shipping_tax_class: TaxClass,
    /// Every rate in force, by country, region and class. A destination without a rate is not
    /// taxed.
    pub rates: Vec<TaxRateRule>,
}

#[derive(SimpleObject)]
pub struct TaxConfigurationPayload {
    pub tax_configuration: Option<TaxConfiguration>,
    pub user_errors: Vec<OrderUserError>,
}

#[derive(InputObject)]
pub struct UpdateTaxSettingsInput {
    pub prices_include_tax: bool,
    pub rounding: TaxRounding,
    pub shipping_tax_class: TaxClass,
}

#[derive(InputObject)]
pub struct SetTaxRateInput {
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// A state or province, for countries that tax by them; left out for the whole country.
    pub region: Option<String>,
    pub tax_class: TaxClass,
    /// A percentage with up to 4 decimals ("19", "8.875").
    pub rate: String,
    /// What receipts call it ("DE VAT 19%").
    pub name: String,
}

#[derive(InputObject)]
pub struct RemoveTaxRateInput {
    pub country_code: String,
    pub region: Option<String>,
    pub tax_class: TaxClass,
}

async fn configuration(ctx: &Context<'_>) -> Result<TaxConfiguration, crate::error::OrderError> {
    let service = service(ctx);
    let settings = service.tax_settings().await?;
    let (table, admins) = service.tax_rates().await?;
    let rule = |r: &TaxRule| TaxRateRule {
        country_code: r.country_code.clone(),
        region: r.region.clone(),
        tax_class: r.class,
        rate: format_percent(r.rate_ppm),
        name: r.name.clone(),
        source: if admins.contains(r) {
            TaxRateSource::Admin
        } else {
            TaxRateSource::Configuration
        },
    };
    let mut rates: Vec<TaxRateRule> = table.rules().iter().map(rule).collect();
    rates.sort_by(|a, b| {
        (&a.country_code, &a.region, a.tax_class.as_str()).cmp(&(
            &b.country_code,
            &b.region,
            b.tax_class.as_str(),
        ))
    });
    Ok(TaxConfiguration {
        prices_include_tax: settings.prices == PricesInclude::Tax,
        rounding: settings.rounding,
        shipping_tax_class: settings.shipping_class,
        rates,
    })
}

async fn payload(
    ctx: &Context<'_>,
    result: Result<(), crate::error::OrderError>,
) -> async_graphql::Result<TaxConfigurationPayload> {
    let result = match result {
        Ok(()) => configuration(ctx).await,
        Err(error) => Err(error),
    };
    kit::error::mutation_payload(result, user_error, |tax_configuration, user_errors| {
        TaxConfigurationPayload {
            tax_configuration,
            user_errors,
        }
    })
}

#[derive(Default)]
pub struct TaxQuery;

#[Object]
impl TaxQuery {
    /// The shop's tax settings and every rate in force.
    #[graphql(requires_scopes = "settings:write")]
    async fn tax_configuration(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<TaxConfiguration> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        configuration(ctx)
            .await
            .map_err(|error| kit::ApiError::internal(error).into())
    }
}

#[derive(Default)]
pub struct TaxMutation;

#[Object]
impl TaxMutation {
    /// Whether prices hold their tax, how tax is rounded, and what shipping is taxed as. Orders
    /// placed before keep what they were charged.
    #[graphql(requires_scopes = "settings:write")]
    async fn update_tax_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateTaxSettingsInput,
    ) -> async_graphql::Result<TaxConfigurationPayload> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        let settings = TaxSettings {
            prices: if input.prices_include_tax {
                PricesInclude::Tax
            } else {
                PricesInclude::NoTax
            },
            rounding: input.rounding,
            shipping_class: input.shipping_tax_class,
        };
        let result = service(ctx).save_tax_settings(&settings).await;
        payload(ctx, result).await
    }

    /// Sets the rate a country (or one of its regions) charges on a class, replacing the one
    /// in force for the same place and class.
    #[graphql(requires_scopes = "settings:write")]
    async fn set_tax_rate(
        &self,
        ctx: &Context<'_>,
        input: SetTaxRateInput,
    ) -> async_graphql::Result<TaxConfigurationPayload> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        let change = TaxRateChange {
            country_code: input.country_code,
            region: input.region,
            class: input.tax_class,
        };
        let result = service(ctx)
            .set_tax_rate(change, &input.rate, &input.name)
            .await;
        payload(ctx, result).await
    }

    /// Removes a rate an admin set (a configured rate for the place and class applies again).
    #[graphql(requires_scopes = "settings:write")]
    async fn remove_tax_rate(
        &self,
        ctx: &Context<'_>,
        input: RemoveTaxRateInput,
    ) -> async_graphql::Result<TaxConfigurationPayload> {
        viewer(ctx).require_permission(Permission::SettingsWrite)?;
        let change = TaxRateChange {
            country_code: input.country_code,
            region: input.region,
            class: input.tax_class,
        };
        let result = service(ctx).remove_tax_rate(change).await;
        payload(ctx, result).await
    }
}
