//! Imports as stored (`product_imports`), parsed into [`ProductImport`]s here, once.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{CatalogStore, StoreError, StoreResult};
use crate::domain::import::{ImportFormat, RowError};
use crate::domain::import_job::{ImportCounts, ImportStatus, ProductImport, KEPT_ERRORS};

const COLUMNS: &str = "id, status, format, started_by, products_total, products_done, \
    products_created, products_updated, variants_created, variants_updated, variants_unchanged, \
    errors, error_count, failure, attempts, created_at, updated_at, finished_at";

fn count(row: &AnyRow, column: &str) -> StoreResult<u64> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        id: row.try_get("id").unwrap_or_default(),
        what: format!("{column} {value}"),
    })
}

fn product_import(row: &AnyRow) -> StoreResult<ProductImport> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt {
        id: id.clone(),
        what,
    };
    let status: String = row.try_get("status")?;
    let status =
        ImportStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status:?}")))?;
    let format: String = row.try_get("format")?;
    let format =
        ImportFormat::parse(&format).ok_or_else(|| corrupt(format!("format {format:?}")))?;
    let errors: String = row.try_get("errors")?;
    let errors: Vec<RowError> =
        serde_json::from_str(&errors).map_err(|e| corrupt(format!("errors: {e}")))?;
    let products_total: Option<i64> = row.try_get("products_total")?;
    Ok(ProductImport {
        status,
        format,
        started_by: row.try_get("started_by")?,
        products_total: products_total
            .map(|t| u64::try_from(t).map_err(|_| corrupt(format!("products_total {t}"))))
            .transpose()?,
        products_done: count(row, "products_done")?,
        counts: ImportCounts {
            products_created: count(row, "products_created")?,
            products_updated: count(row, "products_updated")?,
            variants_created: count(row, "variants_created")?,
            variants_updated: count(row, "variants_updated")?,
            variants_unchanged: count(row, "variants_unchanged")?,
        },
        errors,
        error_count: count(row, "error_count")?,
        failure: row.try_get("failure")?,
        attempts: count(row, "attempts")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
        id,
    })
}

impl CatalogStore {
    /// A new running import of `file`, started once.
    pub async fn insert_import(&self, import: &ProductImport, file: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO product_imports (id, status, format, file, started_by, products_total, \
             products_done, products_created, products_updated, variants_created, \
             variants_updated, variants_unchanged, errors, error_count, failure, attempts, \
             created_at, updated_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, 0, 0, 0, 0, 0, 0, '[]', 0, NULL, 1, $6, $6, NULL)",
        )
        .bind(&import.id)
        .bind(import.status.as_str())
        .bind(import.format.as_str())
        .bind(file)
        .bind(&import.started_by)
        .bind(import.created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn import_by_id(&self, id: &str) -> StoreResult<Option<ProductImport>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM product_imports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(product_import).transpose()
    }

    /// The file of a running import.
    pub async fn import_file(&self, id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT file FROM product_imports WHERE id = $1 AND status = $2")
            .bind(id)
            .bind(ImportStatus::Running.as_str())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get("file")).transpose()?)
    }

    /// Where a running import is; also its heartbeat. `false` when it is no longer running.
    pub async fn record_import_progress(
        &self,
        id: &str,
        products_done: u64,
        products_total: Option<u64>,
        now: i64,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE product_imports SET products_done = $2, products_total = $3, updated_at = $4 \
             WHERE id = $1 AND status = $5",
        )
        .bind(id)
        .bind(products_done as i64)
        .bind(products_total.map(|t| t as i64))
        .bind(now)
        .bind(ImportStatus::Running.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Ends a running import with its outcome, and lets its file go.
    pub async fn finish_import(&self, import: &ProductImport) -> StoreResult<()> {
        let errors = &import.errors[..import.errors.len().min(KEPT_ERRORS)];
        let errors = serde_json::to_string(errors).expect("row errors serialize");
        let c = &import.counts;
        sqlx::query(
            "UPDATE product_imports SET status = $2, file = '', products_total = $3, \
             products_done = $4, products_created = $5, products_updated = $6, \
             variants_created = $7, variants_updated = $8, variants_unchanged = $9, \
             errors = $10, error_count = $11, failure = $12, updated_at = $13, \
             finished_at = $13 WHERE id = $1 AND status = $14",
        )
        .bind(&import.id)
        .bind(import.status.as_str())
        .bind(import.products_total.map(|t| t as i64))
        .bind(import.products_done as i64)
        .bind(c.products_created as i64)
        .bind(c.products_updated as i64)
        .bind(c.variants_created as i64)
        .bind(c.variants_updated as i64)
        .bind(c.variants_unchanged as i64)
        .bind(errors)
        .bind(import.error_count as i64)
        .bind(&import.failure)
        .bind(import.finished_at.unwrap_or(import.updated_at))
        .bind(ImportStatus::Running.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Takes over the running imports whose heartbeat is older than `stale_before`, each by
    /// one caller only: their ids, with the heartbeat set to `now` and an attempt counted.
    pub async fn claim_stale_imports(
        &self,
        stale_before: i64,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let stale = sqlx::query(
            "SELECT id, updated_at FROM product_imports WHERE status = $1 AND updated_at < $2",
        )
        .bind(ImportStatus::Running.as_str())
        .bind(stale_before)
        .fetch_all(self.db.pool())
        .await?;
        let mut claimed = Vec::new();
        for row in stale {
            let id: String = row.try_get("id")?;
            let heartbeat: i64 = row.try_get("updated_at")?;
            // Only one claimant sees the heartbeat it read: the others' updates match nothing.
            let taken = sqlx::query(
                "UPDATE product_imports SET updated_at = $3, attempts = attempts + 1 \
                 WHERE id = $1 AND status = $4 AND updated_at = $2",
            )
            .bind(&id)
            .bind(heartbeat)
            .bind(now)
            .bind(ImportStatus::Running.as_str())
            .execute(self.db.pool())
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(id);
            }
        }
        Ok(claimed)
    }
}
