//! `importProducts`: an admin's file of products and variants (CSV or JSON lines; the formats
//! are in README), checked
//! whole before anything changes; a file with errors gets every row and column at fault and
//! changes nothing. Files bigger than a request may be go through `shop catalog import FILE`.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::{service, viewer, CatalogErrorCode, CatalogUserError};
use crate::domain::import::{ImportFormat, RowError};
use crate::service::ImportReport;

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

#[derive(SimpleObject, Default)]
pub struct ImportProductsPayload {
    pub products_created: i64,
    pub products_updated: i64,
    pub variants_created: i64,
    pub variants_updated: i64,
    /// Variants the file describes as they are: a file imported twice leaves all unchanged.
    pub variants_unchanged: i64,
    /// Every row and column at fault; when there are any, nothing was imported.
    pub errors: Vec<ImportRowError>,
    pub user_errors: Vec<CatalogUserError>,
}

impl From<ImportReport> for ImportProductsPayload {
    fn from(report: ImportReport) -> Self {
        Self {
            products_created: report.products_created as i64,
            products_updated: report.products_updated as i64,
            variants_created: report.variants_created as i64,
            variants_updated: report.variants_updated as i64,
            variants_unchanged: report.variants_unchanged as i64,
            errors: report.errors.into_iter().map(Into::into).collect(),
            user_errors: Vec::new(),
        }
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    #[graphql(requires_scopes = "admin")]
    async fn import_products(
        &self,
        ctx: &Context<'_>,
        input: ImportProductsInput,
    ) -> async_graphql::Result<ImportProductsPayload> {
        viewer(ctx).require_admin()?;
        if input.file.trim().is_empty() {
            return Ok(ImportProductsPayload {
                user_errors: vec![CatalogUserError {
                    field: Some(vec!["input".into(), "file".into()]),
                    code: CatalogErrorCode::InvalidInput,
                    message: "the file is empty".into(),
                }],
                ..ImportProductsPayload::default()
            });
        }
        match service(ctx)
            .import(input.file.as_bytes(), input.format)
            .await
        {
            Ok(report) => Ok(report.into()),
            Err(error) => super::payload(Err(error), |_: Option<()>, user_errors| {
                ImportProductsPayload {
                    user_errors,
                    ..ImportProductsPayload::default()
                }
            }),
        }
    }
}
