//! The catalog as a CSV file in the import's columns (see `domain::import`): products in id
//! order, one row per variant that is not archived (a product without options: its one row),
//! the product's own fields on its first row. Importing an export changes nothing.

use std::collections::HashMap;
use std::io::Write;

use super::{CatalogError, CatalogResult, CatalogService};
use crate::domain::{Product, ProductStatus, Variant};

/// The columns an export writes, in this order.
pub const EXPORT_COLUMNS: [&str; 16] = crate::domain::import::COLUMNS;

fn written(error: csv::Error) -> CatalogError {
    CatalogError::Export(error.to_string())
}

impl CatalogService {
    /// Writes every product to `out`; returns how many variant rows were written.
    pub async fn export_csv(&self, out: impl Write) -> CatalogResult<u64> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(EXPORT_COLUMNS).map_err(written)?;
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
                rows += write_product(&mut writer, &product, &of, &category)?;
            }
        }
        writer
            .flush()
            .map_err(|e| CatalogError::Export(e.to_string()))?;
        Ok(rows)
    }
}

fn write_product<W: Write>(
    writer: &mut csv::Writer<W>,
    product: &Product,
    variants: &[Variant],
    category_slug: &str,
) -> CatalogResult<u64> {
    // A product without options is its default variant, whatever its status; a product with
    // options sells its variants that are not archived.
    let sold: Vec<&Variant> = if product.options.is_empty() {
        variants
            .iter()
            .filter(|v| v.option_values.is_empty())
            .collect()
    } else {
        variants
            .iter()
            .filter(|v| v.status != ProductStatus::Archived && !v.option_values.is_empty())
            .collect()
    };
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
    Ok(sold.len() as u64)
}
