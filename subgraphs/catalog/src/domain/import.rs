//! Bulk import of products and their variants from CSV in the columns of Shopify's product CSV
//! (one row per variant; the rows of one product share its `Handle`). This module reads and
//! checks a file on its own terms, without the database: every row and column at fault is
//! reported, each with its row number (the header is row 1); what the file means against the
//! catalog (which handles exist, which SKUs are taken) is checked by the service.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use commerce::money::{CurrencyCode, Money, MoneyInput};

use super::product::{self, ProductStatus};
use super::variant::{self, OptionValue, ProductOption, MAX_OPTIONS};

/// How an import or export file is written.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ImportFormat {
    /// Shopify's product CSV columns, one row per variant.
    #[default]
    Csv,
    /// One product per line, with its options and variants (`domain::json_lines`).
    JsonLines,
}

impl ImportFormat {
    /// JSON lines for a `.jsonl` or `.ndjson` file, CSV otherwise.
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson") => Self::JsonLines,
            _ => Self::Csv,
        }
    }
}

/// The columns a file may have, as Shopify names them (`Category` is a category's slug).
pub const COLUMNS: [&str; 16] = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Category",
    "Status",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Grams",
    "Variant Barcode",
];
/// The columns every file needs.
pub const REQUIRED: [&str; 3] = ["Handle", "Variant SKU", "Variant Price"];
/// The longest cell read, in bytes; a longer one is an error, not a truncation.
pub const MAX_CELL_BYTES: usize = 10_000;
/// The most rows one file may have.
pub const MAX_ROWS: u64 = 200_000;

/// A row (the header is row 1) and column at fault, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowError {
    pub row: u64,
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    fn new(row: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            row,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

/// One variant as the file gives it, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedVariant {
    pub row: u64,
    pub sku: String,
    /// In the product's option order; empty for a product without options.
    pub option_values: Vec<OptionValue>,
    pub price: Money,
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub barcode: Option<String>,
}

/// One product as the file gives it (its rows together), checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedProduct {
    /// Its slug.
    pub handle: String,
    pub first_row: u64,
    pub title: Option<String>,
    pub description: Option<String>,
    pub category_slug: Option<String>,
    pub status: Option<ProductStatus>,
    /// Empty for a product sold as its default variant.
    pub options: Vec<ProductOption>,
    pub variants: Vec<ImportedVariant>,
}

/// The header's columns by position.
struct Header {
    index: HashMap<&'static str, usize>,
}

impl Header {
    fn read(names: &csv::StringRecord) -> Result<Self, Vec<RowError>> {
        let mut index = HashMap::new();
        let mut errors = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.trim();
            match COLUMNS.iter().find(|c| **c == name) {
                Some(column) if index.insert(*column, i).is_some() => {
                    errors.push(RowError::new(1, Some(name), "this column appears twice"))
                }
                Some(_) => {}
                None => errors.push(RowError::new(
                    1,
                    Some(name),
                    format!("unknown column (the columns are: {})", COLUMNS.join(", ")),
                )),
            }
        }
        for required in REQUIRED {
            if !index.contains_key(required) {
                errors.push(RowError::new(1, Some(required), "this column is required"));
            }
        }
        if errors.is_empty() {
            Ok(Self { index })
        } else {
            Err(errors)
        }
    }

    /// The trimmed cell of `column` in `record`; `None` when the column is absent or the cell
    /// empty.
    fn cell<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let value = record.get(*self.index.get(column)?)?.trim();
        (!value.is_empty()).then_some(value)
    }
}

/// Reads a whole file into products, or every error it has. A byte-order mark is skipped;
/// quoted cells may hold commas, quotes and newlines.
pub fn read(
    input: impl Read,
    currency: CurrencyCode,
) -> Result<Vec<ImportedProduct>, Vec<RowError>> {
    let mut input = BufReader::new(input);
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if input.fill_buf().is_ok_and(|start| start.starts_with(BOM)) {
        input.consume(BOM.len());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let header = match reader.headers() {
        Ok(names) => Header::read(&names.clone())?,
        Err(error) => return Err(vec![csv_error(&error, 1)]),
    };
    let mut products: Vec<ImportedProduct> = Vec::new();
    let mut by_handle: HashMap<String, usize> = HashMap::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut rows = 1u64;
    loop {
        let row = rows + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                errors.push(csv_error(&error, row));
                // A broken row (quotes, field count) may leave the reader anywhere: stop.
                if !matches!(error.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                rows += 1;
                continue;
            }
        }
        rows += 1;
        if rows - 1 > MAX_ROWS {
            errors.push(RowError::new(
                row,
                None,
                format!("at most {MAX_ROWS} rows per file"),
            ));
            break;
        }
        if let Err(mut found) = read_row(
            &header,
            &record,
            row,
            currency,
            &mut products,
            &mut by_handle,
            &mut skus,
        ) {
            errors.append(&mut found);
        }
    }
    for product in &mut products {
        if let Err(error) = finish(product) {
            errors.push(error);
        }
    }
    if errors.is_empty() {
        Ok(products)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(errors)
    }
}

fn csv_error(error: &csv::Error, row: u64) -> RowError {
    let row = error.position().map_or(row, |p| p.line().max(1));
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} cells; the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "this row is not UTF-8 text".to_string(),
        _ => format!("unreadable CSV: {error}"),
    };
    RowError::new(row, None, message)
}

/// Checks one row and adds it to its product.
fn read_row(
    header: &Header,
    record: &csv::StringRecord,
    row: u64,
    currency: CurrencyCode,
    products: &mut Vec<ImportedProduct>,
    by_handle: &mut HashMap<String, usize>,
    skus: &mut HashMap<String, u64>,
) -> Result<(), Vec<RowError>> {
    let mut errors = Vec::new();
    for (i, cell) in record.iter().enumerate() {
        if cell.len() > MAX_CELL_BYTES {
            let column = header
                .index
                .iter()
                .find(|(_, at)| **at == i)
                .map(|(name, _)| *name);
            errors.push(RowError::new(
                row,
                column,
                format!("a cell holds at most {MAX_CELL_BYTES} bytes"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let fail = |column: &str, message: String| RowError::new(row, Some(column), message);
    let handle = match header.cell(record, "Handle") {
        Some(handle) if super::slug::is_valid_slug(handle) => handle.to_string(),
        Some(_) => {
            return Err(vec![fail(
                "Handle",
                "handles are lower-case letters, digits and dashes".into(),
            )])
        }
        None => return Err(vec![fail("Handle", "every row needs a handle".into())]),
    };
    let at = *by_handle.entry(handle.clone()).or_insert_with(|| {
        products.push(ImportedProduct {
            handle: handle.clone(),
            first_row: row,
            title: None,
            description: None,
            category_slug: None,
            status: None,
            options: Vec::new(),
            variants: Vec::new(),
        });
        products.len() - 1
    });
    let product = &mut products[at];
    let first = product.first_row == row;
    // Product fields come from the product's first row (later rows may repeat them).
    if first {
        if let Some(title) = header.cell(record, "Title") {
            match product::parse_name(title) {
                Ok(title) => product.title = Some(title),
                Err(e) => errors.push(fail("Title", e.to_string())),
            }
        }
        if let Some(body) = header.cell(record, "Body (HTML)") {
            match product::parse_description(body) {
                Ok(body) => product.description = Some(body),
                Err(e) => errors.push(fail("Body (HTML)", e.to_string())),
            }
        }
        product.category_slug = header.cell(record, "Category").map(str::to_string);
        if let Some(status) = header.cell(record, "Status") {
            match ProductStatus::parse(&status.to_lowercase()) {
                Some(status) => product.status = Some(status),
                None => errors.push(fail("Status", "status is active, draft or archived".into())),
            }
        }
    }
    let mut names = Vec::new();
    let mut values = Vec::new();
    for n in 1..=MAX_OPTIONS {
        let name_column = format!("Option{n} Name");
        let value_column = format!("Option{n} Value");
        let name = header.cell(record, &name_column);
        let value = header.cell(record, &value_column);
        // Shopify's way of saying "no options".
        if n == 1 && name == Some("Title") && value == Some("Default Title") {
            break;
        }
        let name = match (name, first) {
            (Some(name), _) => Some(name.to_string()),
            // Later rows may leave the names to the first row.
            (None, false) => product.options.get(n - 1).map(|o| o.name.clone()),
            (None, true) => None,
        };
        match (name, value) {
            (Some(name), Some(value)) => {
                names.push(name.clone());
                values.push(OptionValue {
                    name,
                    value: value.to_string(),
                });
            }
            (Some(_), None) => errors.push(fail(&value_column, "this option needs a value".into())),
            (None, Some(_)) => errors.push(fail(
                &name_column,
                "this value needs its option's name".into(),
            )),
            (None, None) => {}
        }
    }
    if first {
        product.options = names
            .iter()
            .map(|name| ProductOption {
                name: name.clone(),
                values: Vec::new(),
            })
            .collect();
    } else if names.len() != product.options.len()
        || names
            .iter()
            .zip(&product.options)
            .any(|(a, b)| *a != b.name)
    {
        errors.push(fail(
            "Option1 Name",
            format!(
                "the options of {handle} are named on row {} as {}",
                product.first_row,
                product
                    .options
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let sku = match header.cell(record, "Variant SKU").map(product::parse_sku) {
        Some(Ok(sku)) => Some(sku),
        Some(Err(e)) => {
            errors.push(fail("Variant SKU", e.to_string()));
            None
        }
        None => {
            errors.push(fail("Variant SKU", "every row needs a SKU".into()));
            None
        }
    };
    if let Some(sku) = &sku {
        if let Some(earlier) = skus.insert(sku.clone(), row) {
            errors.push(fail(
                "Variant SKU",
                format!("row {earlier} has this SKU too"),
            ));
        }
    }
    let money = |column: &str| -> Result<Option<Money>, RowError> {
        let Some(amount) = header.cell(record, column) else {
            return Ok(None);
        };
        let input = MoneyInput {
            amount: amount.to_string(),
            currency_code: currency,
        };
        product::parse_price(&input)
            .map(Some)
            .map_err(|e| fail(column, e.to_string()))
    };
    let price = match money("Variant Price") {
        Ok(Some(price)) => Some(price),
        Ok(None) => {
            errors.push(fail("Variant Price", "every row needs a price".into()));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let compare_at = money("Variant Compare At Price").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if let (Some(price), Some(was)) = (price, compare_at) {
        if let Err(e) = variant::check_compare_at(price, Some(was)) {
            errors.push(fail("Variant Compare At Price", e.to_string()));
        }
    }
    let weight_grams = match header.cell(record, "Variant Grams") {
        None => None,
        Some(grams) => match grams.parse::<i64>() {
            Ok(grams) if grams >= 0 => Some(grams),
            _ => {
                errors.push(fail(
                    "Variant Grams",
                    "grams are a whole number, 0 or more".into(),
                ));
                None
            }
        },
    };
    let barcode =
        variant::parse_barcode(header.cell(record, "Variant Barcode").map(str::to_string))
            .unwrap_or_else(|e| {
                errors.push(fail("Variant Barcode", e.to_string()));
                None
            });
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(sku), Some(price)) = (sku, price) else {
        return Err(errors);
    };
    for value in &values {
        if let Some(option) = product.options.iter_mut().find(|o| o.name == value.name) {
            if !option.values.contains(&value.value) {
                option.values.push(value.value.clone());
            }
        }
    }
    if let Some(earlier) = product.variants.iter().find(|v| v.option_values == values) {
        let message = if values.is_empty() {
            format!(
                "{handle} has no options, so one row: row {} is its variant",
                earlier.row
            )
        } else {
            format!("row {} has these option values too", earlier.row)
        };
        return Err(vec![fail("Option1 Value", message)]);
    }
    product.variants.push(ImportedVariant {
        row,
        sku,
        option_values: values,
        price,
        compare_at,
        weight_grams,
        barcode,
    });
    Ok(())
}

/// Checks a product's options as a whole once all its rows are read.
fn finish(product: &mut ImportedProduct) -> Result<(), RowError> {
    let options = std::mem::take(&mut product.options);
    product.options = variant::parse_options(options)
        .map_err(|e| RowError::new(product.first_row, Some("Option1 Name"), e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Handle,Title,Category,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant SKU,Variant Price,Variant Compare At Price";

    fn read_str(text: &str) -> Result<Vec<ImportedProduct>, Vec<RowError>> {
        read(text.as_bytes(), CurrencyCode::Usd)
    }

    fn errors(text: &str) -> Vec<(u64, Option<String>)> {
        read_str(text)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.row, e.column))
            .collect()
    }

    #[test]
    fn rows_of_one_handle_make_one_product_with_its_options() {
        let file = format!(
            "\u{feff}{HEADER}\n\
             tee,Tee,shirts,Size,S,Colour,Red,TEE-S-RED,20.00,\n\
             tee,,,,M,,Red,TEE-M-RED,22.00,25.00\n\
             lamp,\"Lamp, brass\",lamps,Title,Default Title,,,LAMP-1,89.00,\n"
        );
        let products = read_str(&file).unwrap();
        assert_eq!(products.len(), 2);
        let tee = &products[0];
        assert_eq!(tee.title.as_deref(), Some("Tee"));
        assert_eq!(
            tee.options,
            vec![
                ProductOption {
                    name: "Size".into(),
                    values: vec!["S".into(), "M".into()]
                },
                ProductOption {
                    name: "Colour".into(),
                    values: vec!["Red".into()]
                },
            ]
        );
        assert_eq!(tee.variants[1].row, 3);
        assert_eq!(
            tee.variants[1].compare_at.map(|m| m.minor_units),
            Some(2500)
        );
        let lamp = &products[1];
        assert_eq!(lamp.title.as_deref(), Some("Lamp, brass"));
        assert!(lamp.options.is_empty());
        assert_eq!(lamp.variants[0].sku, "LAMP-1");
    }

    #[test]
    fn every_bad_row_and_column_is_named() {
        let file = format!(
            "{HEADER}\n\
             tee,Tee,shirts,Size,S,,,TEE-S,20.00,\n\
             tee,,,,S,,,TEE-S2,20.00,\n\
             tee,,,,M,,,TEE-S,twelve,\n\
             BAD HANDLE,x,y,,,,,X-1,1.00,\n\
             lamp,Lamp,lamps,,,,,LAMP-1,5.00,\n\
             lamp,,,,,,,LAMP-2,5.00,4.00\n\
             lamp,,,,,,,LAMP-3,5.00,\n\
             desk,Desk,desks,,,,,DESK-1,-1.00,\n\
             desk2,Desk,desks,,Oak,,,DESK-2,1.00,\n"
        );
        assert_eq!(
            errors(&file),
            vec![
                (3, Some("Option1 Value".into())),
                (4, Some("Variant SKU".into())),
                (4, Some("Variant Price".into())),
                (5, Some("Handle".into())),
                (7, Some("Variant Compare At Price".into())),
                (8, Some("Option1 Value".into())),
                (9, Some("Variant Price".into())),
                (10, Some("Option1 Name".into())),
            ]
        );
    }

    #[test]
    fn a_bad_header_a_broken_row_and_a_huge_cell_are_reported() {
        assert_eq!(
            errors("Handle,Title,Colour\nx,y,z\n"),
            vec![
                (1, Some("Colour".into())),
                (1, Some("Variant SKU".into())),
                (1, Some("Variant Price".into())),
            ]
        );
        let broken = format!("{HEADER}\ntee,Tee,shirts\n");
        assert_eq!(errors(&broken), vec![(2, None)]);
        let huge = format!(
            "{HEADER}\ntee,{},shirts,,,,,TEE-1,1.00,\n",
            "x".repeat(1_000_000)
        );
        assert_eq!(errors(&huge), vec![(2, Some("Title".into()))]);
        // A quoted newline is part of its cell.
        let quoted = format!("{HEADER}\ntee,\"Two\nlines\",shirts,,,,,TEE-1,1.00,\n");
        assert_eq!(
            read_str(&quoted).unwrap()[0].title.as_deref(),
            Some("Two\nlines")
        );
    }
}
