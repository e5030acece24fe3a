//! The JSON lines form of the catalog import: one product per line, with its options and
//! variants inside it. The same checks as the CSV form (`domain::import`), reported by line
//! (the first line is 1) and field:
//!
//! ```json
//! {"handle": "tee", "title": "Tee", "category": "shirts", "status": "active",
//!  "options": [{"name": "Size", "values": ["S", "M"]}],
//!  "variants": [{"sku": "TEE-S", "optionValues": [{"name": "Size", "value": "S"}],
//!                "price": "20.00", "compareAtPrice": null, "grams": 180, "barcode": null}]}
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use commerce::money::{CurrencyCode, Money, MoneyInput};
use serde::{Deserialize, Serialize};

use super::import::{ImportedProduct, ImportedVariant, RowError, MAX_ROWS};
use super::product::{self, ProductStatus};
use super::slug::is_valid_slug;
use super::variant::{self, OptionValue, ProductOption};

/// The longest line read, in bytes.
pub const MAX_LINE_BYTES: usize = 1_000_000;

/// One line: a product with its variants (the export writes the same).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductLine {
    pub handle: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A category's slug.
    #[serde(default)]
    pub category: Option<String>,
    /// `active`, `draft` or `archived`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
    pub variants: Vec<VariantLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantLine {
    pub sku: String,
    #[serde(default)]
    pub option_values: Vec<OptionValue>,
    /// A decimal string in the shop's currency.
    pub price: String,
    #[serde(default)]
    pub compare_at_price: Option<String>,
    #[serde(default)]
    pub grams: Option<i64>,
    #[serde(default)]
    pub barcode: Option<String>,
}

/// Reads a whole file into products, or every error it has.
pub fn read(
    input: impl Read,
    currency: CurrencyCode,
) -> Result<Vec<ImportedProduct>, Vec<RowError>> {
    let mut products = Vec::new();
    let mut errors = Vec::new();
    let mut handles: HashMap<String, u64> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    let mut reader = BufReader::new(input);
    let mut buffer = Vec::new();
    let mut row = 0u64;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                errors.push(error(row + 1, None, format!("unreadable: {e}")));
                break;
            }
        }
        row += 1;
        if row > MAX_ROWS {
            errors.push(error(
                row,
                None,
                format!("at most {MAX_ROWS} lines per file"),
            ));
            break;
        }
        if buffer.len() > MAX_LINE_BYTES {
            errors.push(error(
                row,
                None,
                format!("a line holds at most {MAX_LINE_BYTES} bytes"),
            ));
            continue;
        }
        let text = match std::str::from_utf8(&buffer) {
            Ok(text) => text.trim_start_matches('\u{feff}').trim(),
            Err(_) => {
                errors.push(error(row, None, "this line is not UTF-8 text"));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        let line: ProductLine = match serde_json::from_str(text) {
            Ok(line) => line,
            Err(e) => {
                errors.push(error(row, None, format!("not a product: {e}")));
                continue;
            }
        };
        match check(line, row, currency, &mut handles, &mut skus) {
            Ok(product) => products.push(product),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(products)
    } else {
        Err(errors)
    }
}

fn error(row: u64, field: Option<&str>, message: impl Into<String>) -> RowError {
    RowError {
        row,
        column: field.map(str::to_string),
        message: message.into(),
    }
}

fn money(amount: &str, currency: CurrencyCode) -> Result<Money, String> {
    let input = MoneyInput {
        amount: amount.to_string(),
        currency_code: currency,
    };
    product::parse_price(&input).map_err(|e| e.to_string())
}

/// Checks one line the way `domain::import` checks rows.
fn check(
    line: ProductLine,
    row: u64,
    currency: CurrencyCode,
    handles: &mut HashMap<String, u64>,
    skus: &mut HashMap<String, u64>,
) -> Result<ImportedProduct, Vec<RowError>> {
    let mut errors = Vec::new();
    let fail = |field: &str, message: String| error(row, Some(field), message);
    if !is_valid_slug(&line.handle) {
        errors.push(fail(
            "handle",
            "handles are lower-case letters, digits and dashes".into(),
        ));
    } else if let Some(earlier) = handles.insert(line.handle.clone(), row) {
        errors.push(fail(
            "handle",
            format!("line {earlier} has this handle too"),
        ));
    }
    let title = match line.title.as_deref().map(product::parse_name).transpose() {
        Ok(title) => title,
        Err(e) => {
            errors.push(fail("title", e.to_string()));
            None
        }
    };
    let description = match line
        .description
        .as_deref()
        .map(product::parse_description)
        .transpose()
    {
        Ok(description) => description,
        Err(e) => {
            errors.push(fail("description", e.to_string()));
            None
        }
    };
    let status = match line.status.as_deref() {
        None => None,
        Some(raw) => match ProductStatus::parse(&raw.to_lowercase()) {
            Some(status) => Some(status),
            None => {
                errors.push(fail("status", "status is active, draft or archived".into()));
                None
            }
        },
    };
    let options = variant::parse_options(line.options).unwrap_or_else(|e| {
        errors.push(fail("options", e.to_string()));
        Vec::new()
    });
    if line.variants.is_empty() || (options.is_empty() && line.variants.len() > 1) {
        errors.push(fail(
            "variants",
            "a product has 1 variant without options, at least 1 with them".into(),
        ));
    }
    let mut variants: Vec<ImportedVariant> = Vec::new();
    for (i, given) in line.variants.into_iter().enumerate() {
        let field = |name: &str| format!("variants[{i}].{name}");
        let sku = match product::parse_sku(&given.sku) {
            Ok(sku) => sku,
            Err(e) => {
                errors.push(fail(&field("sku"), e.to_string()));
                continue;
            }
        };
        if let Some(earlier) = skus.insert(sku.clone(), row) {
            errors.push(fail(
                &field("sku"),
                format!("line {earlier} has this SKU too"),
            ));
        }
        let option_values = if options.is_empty() && given.option_values.is_empty() {
            Vec::new()
        } else {
            match variant::parse_option_values(&options, given.option_values) {
                Ok(values) => values,
                Err(e) => {
                    errors.push(fail(&field("optionValues"), e.to_string()));
                    continue;
                }
            }
        };
        // (Without options, the count of variants was checked above.)
        if !options.is_empty() && variants.iter().any(|v| v.option_values == option_values) {
            errors.push(fail(
                &field("optionValues"),
                "another variant of this product has these option values".into(),
            ));
        }
        let price = match money(&given.price, currency) {
            Ok(price) => price,
            Err(e) => {
                errors.push(fail(&field("price"), e));
                continue;
            }
        };
        let compare_at = match given
            .compare_at_price
            .as_deref()
            .map(|a| money(a, currency))
        {
            None => None,
            Some(Ok(was)) => match variant::check_compare_at(price, Some(was)) {
                Ok(()) => Some(was),
                Err(e) => {
                    errors.push(fail(&field("compareAtPrice"), e.to_string()));
                    None
                }
            },
            Some(Err(e)) => {
                errors.push(fail(&field("compareAtPrice"), e));
                None
            }
        };
        if given.grams.is_some_and(|g| g < 0) {
            errors.push(fail(&field("grams"), "grams are 0 or more".into()));
        }
        let barcode = variant::parse_barcode(given.barcode).unwrap_or_else(|e| {
            errors.push(fail(&field("barcode"), e.to_string()));
            None
        });
        variants.push(ImportedVariant {
            row,
            sku,
            option_values,
            price,
            compare_at,
            weight_grams: given.grams,
            barcode,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ImportedProduct {
        handle: line.handle,
        first_row: row,
        title,
        description,
        category_slug: line.category,
        status,
        options,
        variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> Result<Vec<ImportedProduct>, Vec<RowError>> {
        read(text.as_bytes(), CurrencyCode::Usd)
    }

    #[test]
    fn a_line_is_a_product_with_its_variants() {
        let file = "{\"handle\":\"tee\",\"title\":\"Tee\",\"category\":\"shirts\",\
            \"options\":[{\"name\":\"Size\",\"values\":[\"S\",\"M\"]}],\
            \"variants\":[{\"sku\":\"tee-s\",\"optionValues\":[{\"name\":\"size\",\"value\":\"s\"}],\"price\":\"20.00\"},\
            {\"sku\":\"TEE-M\",\"optionValues\":[{\"name\":\"Size\",\"value\":\"M\"}],\"price\":\"22.00\",\"grams\":200}]}\n\
            \n\
            {\"handle\":\"lamp\",\"title\":\"Lamp\",\"category\":\"lamps\",\"variants\":[{\"sku\":\"LAMP-1\",\"price\":\"89.00\",\"compareAtPrice\":\"99.00\"}]}\n";
        let products = read_str(file).unwrap();
        assert_eq!(products.len(), 2);
        assert_eq!(products[0].variants[0].sku, "TEE-S");
        assert_eq!(
            products[0].variants[0].option_values,
            vec![OptionValue {
                name: "Size".into(),
                value: "S".into()
            }]
        );
        assert_eq!(products[1].first_row, 3);
        assert_eq!(
            products[1].variants[0].compare_at.map(|m| m.minor_units),
            Some(9900)
        );
    }

    #[test]
    fn every_bad_line_and_field_is_named() {
        let file = "{\"handle\":\"tee\",\"variants\":[{\"sku\":\"TEE-1\",\"price\":\"-1\"}]}\n\
            not json\n\
            {\"handle\":\"tee\",\"variants\":[{\"sku\":\"TEE-1\",\"price\":\"1.00\",\"grams\":-2}]}\n\
            {\"handle\":\"two\",\"variants\":[{\"sku\":\"A-1\",\"price\":\"1.00\"},{\"sku\":\"A-2\",\"price\":\"1.00\"}]}\n\
            {\"handle\":\"odd\",\"colour\":\"red\",\"variants\":[]}\n";
        let errors: Vec<(u64, Option<String>)> = read_str(file)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.row, e.column))
            .collect();
        assert_eq!(
            errors,
            vec![
                (1, Some("variants[0].price".into())),
                (2, None),
                (3, Some("handle".into())),
                (3, Some("variants[0].sku".into())),
                (3, Some("variants[0].grams".into())),
                (4, Some("variants".into())),
                (5, None),
            ]
        );
    }
}
