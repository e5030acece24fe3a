//! The shop's tax settings and the tax rates admins set (the configuration's rates are not
//! stored: the service lays these over them).

use commerce::tax::{PricesInclude, TaxClass, TaxRounding, TaxRule};
use primitives::time::now_millis;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{corrupt, OrderStore, StoreResult};
use crate::domain::totals::TaxSettings;

/// A stored rate in parts per million, checked (0 to 100%).
pub(super) fn rate_ppm(id: &str, raw: i64) -> StoreResult<u32> {
    u32::try_from(raw)
        .ok()
        .filter(|ppm| *ppm <= commerce::tax::PPM)
        .ok_or_else(|| corrupt(id, format!("tax rate {raw} ppm")))
}

fn class(id: &str, raw: &str) -> StoreResult<TaxClass> {
    TaxClass::parse(raw).ok_or_else(|| corrupt(id, format!("tax class {raw:?}")))
}

fn settings(row: &AnyRow) -> StoreResult<TaxSettings> {
    let prices: String = row.try_get("prices_include")?;
    let rounding: String = row.try_get("rounding")?;
    let shipping_class: String = row.try_get("shipping_class")?;
    Ok(TaxSettings {
        prices: PricesInclude::parse(&prices)
            .ok_or_else(|| corrupt("tax_settings", format!("prices_include {prices:?}")))?,
        rounding: TaxRounding::parse(&rounding)
            .ok_or_else(|| corrupt("tax_settings", format!("rounding {rounding:?}")))?,
        shipping_class: class("tax_settings", &shipping_class)?,
    })
}

fn rule(row: &AnyRow) -> StoreResult<TaxRule> {
    let country_code: String = row.try_get("country_code")?;
    let region: String = row.try_get("region")?;
    let id = format!("tax_rates {country_code}-{region}");
    let raw_class: String = row.try_get("class")?;
    Ok(TaxRule {
        class: class(&id, &raw_class)?,
        rate_ppm: rate_ppm(&id, row.try_get("rate_ppm")?)?,
        name: row.try_get("name")?,
        region: (!region.is_empty()).then_some(region),
        country_code,
    })
}

impl OrderStore {
    /// The settings an admin saved; none when nobody has (the configuration's apply).
    pub async fn tax_settings(&self) -> StoreResult<Option<TaxSettings>> {
        let row = sqlx::query(
            "SELECT prices_include, rounding, shipping_class FROM tax_settings WHERE id = 1",
        )
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(settings).transpose()
    }

    pub async fn save_tax_settings(&self, settings: &TaxSettings) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tax_settings (id, prices_include, rounding, shipping_class, updated_at) \
             VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET prices_include = $1, rounding = $2, \
             shipping_class = $3, updated_at = $4",
        )
        .bind(settings.prices.as_str())
        .bind(settings.rounding.as_str())
        .bind(settings.shipping_class.as_str())
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The rates admins set, by country, region and class.
    pub async fn tax_rates(&self) -> StoreResult<Vec<TaxRule>> {
        let rows = sqlx::query(
            "SELECT country_code, region, class, rate_ppm, name FROM tax_rates \
             ORDER BY country_code, region, class",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(rule).collect()
    }

    /// Sets the rate for the rule's place and class (replacing the one set before).
    pub async fn save_tax_rate(&self, rule: &TaxRule) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tax_rates (country_code, region, class, rate_ppm, name, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (country_code, region, class) DO UPDATE SET rate_ppm = $4, name = $5, \
             updated_at = $6",
        )
        .bind(&rule.country_code)
        .bind(rule.region.as_deref().unwrap_or(""))
        .bind(rule.class.as_str())
        .bind(i64::from(rule.rate_ppm))
        .bind(&rule.name)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Removes the rate an admin set for a place and class; false when there was none.
    pub async fn remove_tax_rate(
        &self,
        country_code: &str,
        region: Option<&str>,
        class: TaxClass,
    ) -> StoreResult<bool> {
        let removed = sqlx::query(
            "DELETE FROM tax_rates WHERE country_code = $1 AND region = $2 AND class = $3",
        )
        .bind(country_code)
        .bind(region.unwrap_or(""))
        .bind(class.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(removed.rows_affected() > 0)
    }
}
