//! `importProducts`: an admin's file of products and variants (CSV or JSON lines; the formats
//! are in README), checked whole before anything changes; a file with errors gets every row and
//! column at fault and changes nothing. The import runs in the background: the mutation
//! answers at once with a `ProductImport`, and `productImport(id)` follows it to the end.
//! Files bigger than a request may go through `shop catalog import FILE`.
//!
//! `exportProducts`: the catalog as such a file, stored for a day behind a link to download.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::ApiError;

use super::{service, viewer, CatalogErrorCode, CatalogUserError};
use crate::domain::import::{ImportFormat, RowError};
use crate::domain::import_job::{ImportStatus, ProductImport as Import};

#[derive(InputObject)]
pub struct ImportProductsInput {
    /// The file's text: for CSV a header row with Shopify's product CSV column names, then one
    /// row per variant; for JSON lines one product per line.
    pub file: String,
    #[graphql(default)]
    pub format: ImportFormat,
}

/// A row (the header is row 1) and column at fault.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowError {
    pub row: i64,
    pub column: Option<String>,
    pub message: String,
}

impl From<RowError> for ImportRowError {
    fn from(error: RowError) -> Self {
        Self {
            row: error.row as i64,
            column: error.column,
            message: error.message,
        }
    }
}

/// An import an admin started, and where it is.
pub struct ProductImport(Import);

#[Object]
impl ProductImport {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn status(&self) -> ImportStatus {
        self.0.status
    }

    async fn format(&self) -> ImportFormat {
        self.0.format
    }

    /// The file's products, known once the file is checked.
    async fn products_total(&self) -> Option<i64> {
        self.0.products_total.map(|t| t as i64)
    }

    /// Products applied so far.
    async fn products_done(&self) -> i64 {
        self.0.products_done as i64
    }

    async fn products_created(&self) -> i64 {
        self.0.counts.products_created as i64
    }

    async fn products_updated(&self) -> i64 {
        self.0.counts.products_updated as i64
    }

    async fn variants_created(&self) -> i64 {
        self.0.counts.variants_created as i64
    }

    async fn variants_updated(&self) -> i64 {
        self.0.counts.variants_updated as i64
    }

    /// Variants the file describes as they are: a file imported twice leaves all unchanged.
    async fn variants_unchanged(&self) -> i64 {
        self.0.counts.variants_unchanged as i64
    }

    /// The rows and columns at fault of a rejected file (the first 1,000, by row).
    async fn errors(&self) -> Vec<ImportRowError> {
        self.0.errors.iter().cloned().map(Into::into).collect()
    }

    /// How many rows and columns are at fault in all.
    async fn error_count(&self) -> i64 {
        self.0.error_count as i64
    }

    /// Why a failed import failed.
    async fn failure(&self) -> Option<&str> {
        self.0.failure.as_deref()
    }

    /// When it started, in milliseconds since the epoch.
    async fn started_at(&self) -> f64 {
        self.0.created_at as f64
    }

    async fn finished_at(&self) -> Option<f64> {
        self.0.finished_at.map(|t| t as f64)
    }
}

#[derive(SimpleObject, Default)]
pub struct ImportProductsPayload {
    /// The import, running: follow it with `productImport(id)`.
    pub import: Option<ProductImport>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// An import and where it is (admins only).
    #[graphql(requires_scopes = "catalog:write")]
    async fn product_import(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ProductImport>> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let import = service(ctx)
            .product_import(&id)
            .await
            .map_err(ApiError::internal)?;
        Ok(import.map(ProductImport))
    }
}

#[derive(InputObject)]
pub struct ExportProductsInput {
    #[graphql(default)]
    pub format: ImportFormat,
}

/// Every product and its variants in a file the import reads, to download.
#[derive(SimpleObject)]
pub struct ProductExport {
    /// Where to download it; the link is the credential, and it works for a day.
    pub url: String,
    pub format: ImportFormat,
    /// Variant rows in the file.
    pub variants: i64,
    /// When the link stops working, in milliseconds since the epoch.
    pub expires_at: f64,
}

#[derive(SimpleObject, Default)]
pub struct ExportProductsPayload {
    pub export: Option<ProductExport>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Starts importing a file; answers at once with the running import.
    #[graphql(requires_scopes = "catalog:write")]
    async fn import_products(
        &self,
        ctx: &Context<'_>,
        input: ImportProductsInput,
    ) -> async_graphql::Result<ImportProductsPayload> {
        let admin = viewer(ctx).require_permission(Permission::CatalogWrite)?;
        if input.file.trim().is_empty() {
            return Ok(ImportProductsPayload {
                import: None,
                user_errors: vec![CatalogUserError {
                    field: Some(vec!["input".into(), "file".into()]),
                    code: CatalogErrorCode::InvalidInput,
                    message: "the file is empty".into(),
                }],
            });
        }
        let started = service(ctx)
            .start_import(input.file, input.format, admin)
            .await;
        super::payload(started, |import, user_errors| ImportProductsPayload {
            import: import.map(ProductImport),
            user_errors,
        })
    }

    /// Writes every product and its variants (not archived ones) to a file in the import's
    /// format, and answers with a link to download it.
    #[graphql(requires_scopes = "catalog:write")]
    async fn export_products(
        &self,
        ctx: &Context<'_>,
        input: ExportProductsInput,
    ) -> async_graphql::Result<ExportProductsPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let exported = service(ctx).export_for_download(input.format).await;
        super::payload(exported, |export, user_errors| ExportProductsPayload {
            export: export.map(|e| ProductExport {
                url: e.url,
                format: e.format,
                variants: e.variants as i64,
                expires_at: e.expires_at as f64,
            }),
            user_errors,
        })
    }
}
