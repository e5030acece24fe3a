//! The catalog as a file the import reads (CSV, `domain::import`, or JSON lines,
//! `domain::json_lines`): products in id order, each with its variants that are not archived (a
//! product without options: its one variant). Importing an export changes nothing.

use std::collections::HashMap;
use std::io::Write;

use super::{CatalogError, CatalogResult, CatalogService};
use crate::domain::import::ImportFormat;
use crate::domain::json_lines::{ProductLine, VariantLine};
use crate::domain::{Product, ProductStatus, Variant};

/// The columns an export writes, in this order.
pub const EXPORT_COLUMNS: [&str; 16] = crate::domain::import::COLUMNS;

fn written(error: csv::Error) -> CatalogError {
    CatalogError::Export(error.to_string())
}

/// Where the products go, in the file's format.
enum Output<W: Write> {
    Csv(Box<csv::Writer<W>>),
    JsonLines(W),
}

/// An export stored for an admin to download.
#[derive(Clone, Debug)]
pub struct ExportDownload {
    pub url: String,
    pub format: ImportFormat,
    /// Variant rows written.
    pub variants: u64,
    /// When the link stops working, in milliseconds since the epoch.
    pub expires_at: i64,
}

impl CatalogService {
    /// Exports every product (see [`CatalogService::export`]) to a file an admin downloads
    /// from the returned link, which works for a day.
    pub async fn export_for_download(&self, format: ImportFormat) -> CatalogResult<ExportDownload> {
        let mut file = Vec::new();
        let variants = self.export(&mut file, format).await?;
        let url = self
            .exports
            .put(file.into(), format)
            .await
            .map_err(|e| CatalogError::Export(e.to_string()))?;
        Ok(ExportDownload {
            url,
            format,
            variants,
            expires_at: primitives::time::now_millis()
                + crate::export_store::EXPORT_LIFETIME.as_millis() as i64,
        })
    }

    /// Writes every product to `out`; returns how many variants were written.
    pub async fn export(&self, out: impl Write, format: ImportFormat) -> CatalogResult<u64> {
        let mut output = match format {
            ImportFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(EXPORT_COLUMNS).map_err(written)?;
                Output::Csv(Box::new(writer))
            }
            ImportFormat::JsonLines => Output::JsonLines(out),
        };
        let categories: HashMap<String, String> = self
            .store
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.id, c.slug))
            .collect();
        let mut rows = 0u64;
        let mut after = String::new();
        loop {
            let page = self.store.products_after(&after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.id.clone();
            let ids: Vec<String> = page.iter().map(|p| p.id.clone()).collect();
            let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
            for row in self.store.variants_of_products(&ids).await? {
                let variant = Variant::try_from(row)?;
                variants
                    .entry(variant.product_id.clone())
                    .or_default()
                    .push(variant);
            }
            for row in page {
                let product = Product::try_from(row)?;
                let of = variants.remove(&product.id).unwrap_or_default();
                let category = categories
                    .get(&product.category_id)
                    .cloned()
                    .unwrap_or_default();
                let sold = sold_variants(&product, &of);
                match &mut output {
                    Output::Csv(writer) => write_rows(writer, &product, &sold, &category)?,
                    Output::JsonLines(out) => write_line(out, &product, &sold, &category)?,
                }
                rows += sold.len() as u64;
            }
        }
        let flushed = match &mut output {
            Output::Csv(writer) => writer.flush(),
            Output::JsonLines(out) => out.flush(),
        };
        flushed.map_err(|e| CatalogError::Export(e.to_string()))?;
        Ok(rows)
    }
}

/// A product without options is its default variant, whatever its status; a product with
/// options sells its variants that are not archived.
fn sold_variants<'v>(product: &Product, variants: &'v [Variant]) -> Vec<&'v Variant> {
    if product.options.is_empty() {
        variants
            .iter()
            .filter(|v| v.option_values.is_empty())
            .collect()
    } else {
        variants
            .iter()
            .filter(|v| v.status != ProductStatus::Archived && !v.option_values.is_empty())
            .collect()
    }
}

fn write_line(
    out: &mut impl Write,
    product: &Product,
    sold: &[&Variant],
    category_slug: &str,
) -> CatalogResult<()> {
    if sold.is_empty() {
        return Ok(());
    }
    let line = ProductLine {
        handle: product.slug.clone(),
        title: Some(product.name.clone()),
        description: Some(product.description.clone()),
        category: Some(category_slug.to_string()),
        status: Some(product.status.as_str().to_string()),
        options: product.options.clone(),
        variants: sold
            .iter()
            .map(|v| VariantLine {
                sku: v.sku.clone(),
                option_values: v.option_values.clone(),
                price: v.price.amount(),
                compare_at_price: v.compare_at.map(|m| m.amount()),
                grams: v.weight_grams,
                barcode: v.barcode.clone(),
            })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &line).map_err(|e| CatalogError::Export(e.to_string()))?;
    out.write_all(b"\n")
        .map_err(|e| CatalogError::Export(e.to_string()))
}

fn write_rows<W: Write>(
    writer: &mut csv::Writer<W>,
    product: &Product,
    sold: &[&Variant],
    category_slug: &str,
) -> CatalogResult<()> {
    for (i, variant) in sold.iter().enumerate() {
        let first = i == 0;
        let on_first = |value: &str| {
            if first {
                value.to_string()
            } else {
                String::new()
            }
        };
        let mut options: Vec<String> = Vec::new();
        for n in 0..3 {
            let name = product.options.get(n).map_or("", |o| o.name.as_str());
            let value = variant
                .option_values
                .get(n)
                .map_or("", |v| v.value.as_str());
            options.push(on_first(name));
            options.push(value.to_string());
        }
        let record = [
            product.slug.clone(),
            on_first(&product.name),
            on_first(&product.description),
            on_first(category_slug),
            on_first(product.status.as_str()),
            options[0].clone(),
            options[1].clone(),
            options[2].clone(),
            options[3].clone(),
            options[4].clone(),
            options[5].clone(),
            variant.sku.clone(),
            variant.price.amount(),
            variant.compare_at.map(|m| m.amount()).unwrap_or_default(),
            variant
                .weight_grams
                .map(|g| g.to_string())
                .unwrap_or_default(),
            variant.barcode.clone().unwrap_or_default(),
        ];
        writer.write_record(&record).map_err(written)?;
    }
    Ok(())
}
