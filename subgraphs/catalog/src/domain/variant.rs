//! What is sold: a product's variants. A product without options has exactly one, its default
//! variant, which follows the product's SKU, price, weight and status. A product with options
//! (Size: S, M, L) sells one variant per combination of their values; its default variant is
//! archived. The rules here check options, a variant's option values and its prices.

use async_graphql::{InputObject, SimpleObject};
use commerce::money::Money;
use serde::{Deserialize, Serialize};

use super::ProductStatus;

/// One option's value of a variant ("Size": "M").
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(input_name = "OptionValueInput")]
pub struct OptionValue {
    pub name: String,
    pub value: String,
}

/// A variant, every field valid (parsed from storage once, see `TryFrom<VariantRow>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    /// Its place among the product's variants.
    pub position: i64,
    pub sku: String,
    /// In the product's option order; empty for a default variant.
    pub option_values: Vec<OptionValue>,
    pub price: Money,
    /// The "was" price, above `price` when set.
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i64>,
    pub barcode: Option<String>,
    pub status: ProductStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The id of a product's default variant (the migration that made variants uses the same).
pub use commerce::variant::default_variant_id;

/// At most this many options per product (Shopify's limit too).
pub const MAX_OPTIONS: usize = 3;
/// At most this many values per option.
pub const MAX_OPTION_VALUES: usize = 100;

/// One of a product's options and its values in display order ("Size": S, M, L).
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[graphql(input_name = "ProductOptionInput")]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariantRuleError {
    #[error("a product has at most {MAX_OPTIONS} options, each with a distinct name of 1 to 50 characters")]
    InvalidOptions,
    #[error("option {0:?} needs 1 to {MAX_OPTION_VALUES} distinct values of 1 to 100 characters")]
    InvalidOptionValues(String),
    #[error("the product has no option {0:?}")]
    UnknownOption(String),
    #[error("option {name:?} has no value {value:?}")]
    UnknownValue { name: String, value: String },
    #[error("a variant needs exactly one value of every option: {0}")]
    OptionCount(String),
    #[error("another variant of this product has the options {0}")]
    DuplicateCombination(String),
    #[error("1 to 100 variants at a time")]
    VariantCount,
    #[error("the compare-at price must be above the price")]
    CompareAtNotAbove,
    #[error("barcodes are 1 to 64 letters or digits")]
    InvalidBarcode,
    #[error("{0} is used by a variant that is not archived; archive it first")]
    ValueInUse(String),
    #[error(
        "options cannot be added while the product has variants with options; archive them first"
    )]
    OptionsInUse,
    #[error("a product without options has only its default variant; define options first")]
    NoOptions,
    #[error("the variant ids must be exactly the product's variants, each once")]
    InvalidOrder,
}

impl VariantRuleError {
    /// The input field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidOptions | Self::InvalidOptionValues(_) | Self::OptionsInUse => "options",
            Self::ValueInUse(_) => "options",
            Self::UnknownOption(_)
            | Self::UnknownValue { .. }
            | Self::OptionCount(_)
            | Self::DuplicateCombination(_)
            | Self::NoOptions => "optionValues",
            Self::VariantCount => "variants",
            Self::CompareAtNotAbove => "compareAtPrice",
            Self::InvalidBarcode => "barcode",
            Self::InvalidOrder => "variantIds",
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Options as an admin defines them: trimmed, names and values distinct (case aside).
pub fn parse_options(options: Vec<ProductOption>) -> Result<Vec<ProductOption>, VariantRuleError> {
    if options.len() > MAX_OPTIONS {
        return Err(VariantRuleError::InvalidOptions);
    }
    let mut parsed: Vec<ProductOption> = Vec::with_capacity(options.len());
    for option in options {
        let name = option.name.trim().to_string();
        if name.is_empty()
            || name.chars().count() > 50
            || parsed.iter().any(|o| same(&o.name, &name))
        {
            return Err(VariantRuleError::InvalidOptions);
        }
        let mut values: Vec<String> = Vec::with_capacity(option.values.len());
        for value in option.values {
            let value = value.trim().to_string();
            if value.is_empty()
                || value.chars().count() > 100
                || values.iter().any(|v| same(v, &value))
            {
                return Err(VariantRuleError::InvalidOptionValues(name));
            }
            values.push(value);
        }
        if values.is_empty() || values.len() > MAX_OPTION_VALUES {
            return Err(VariantRuleError::InvalidOptionValues(name));
        }
        parsed.push(ProductOption { name, values });
    }
    Ok(parsed)
}

/// Whether new options can replace `current` while `used` (the option values of the product's
/// variants that are not archived) are sold: every used value must stay, and no option may be
/// added while such variants exist (they would have no value for it).
pub fn check_options_change(
    new: &[ProductOption],
    used: &[Vec<OptionValue>],
) -> Result<(), VariantRuleError> {
    for values in used.iter().filter(|v| !v.is_empty()) {
        for value in values {
            let kept = new.iter().any(|o| {
                same(&o.name, &value.name) && o.values.iter().any(|v| same(v, &value.value))
            });
            if !kept {
                return Err(VariantRuleError::ValueInUse(format!(
                    "{}: {}",
                    value.name, value.value
                )));
            }
        }
        if new.len() > values.len() {
            return Err(VariantRuleError::OptionsInUse);
        }
    }
    Ok(())
}

/// A variant's option values as entered, matched to the product's options: one value of every
/// option, in the options' order and spelling.
pub fn parse_option_values(
    options: &[ProductOption],
    given: Vec<OptionValue>,
) -> Result<Vec<OptionValue>, VariantRuleError> {
    if options.is_empty() {
        return Err(VariantRuleError::NoOptions);
    }
    for value in &given {
        if !options.iter().any(|o| same(&o.name, value.name.trim())) {
            return Err(VariantRuleError::UnknownOption(value.name.trim().into()));
        }
    }
    let mut parsed = Vec::with_capacity(options.len());
    for option in options {
        let mut matching = given.iter().filter(|v| same(&option.name, v.name.trim()));
        let (Some(value), None) = (matching.next(), matching.next()) else {
            return Err(VariantRuleError::OptionCount(option_names(options)));
        };
        let Some(known) = option.values.iter().find(|v| same(v, value.value.trim())) else {
            return Err(VariantRuleError::UnknownValue {
                name: option.name.clone(),
                value: value.value.trim().into(),
            });
        };
        parsed.push(OptionValue {
            name: option.name.clone(),
            value: known.clone(),
        });
    }
    Ok(parsed)
}

fn option_names(options: &[ProductOption]) -> String {
    options
        .iter()
        .map(|o| o.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variant's title from its option values ("M / Blue"); empty for a default variant.
pub fn title(values: &[OptionValue]) -> String {
    values
        .iter()
        .map(|v| v.value.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A "was" price must be above the price, in its currency.
pub fn check_compare_at(price: Money, compare_at: Option<Money>) -> Result<(), VariantRuleError> {
    match compare_at {
        Some(was) if was.currency != price.currency || was.minor_units <= price.minor_units => {
            Err(VariantRuleError::CompareAtNotAbove)
        }
        _ => Ok(()),
    }
}

pub fn parse_barcode(raw: Option<String>) -> Result<Option<String>, VariantRuleError> {
    match raw.map(|b| b.trim().to_string()) {
        None => Ok(None),
        Some(b) if (1..=64).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            Ok(Some(b))
        }
        Some(_) => Err(VariantRuleError::InvalidBarcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(name: &str, values: &[&str]) -> ProductOption {
        ProductOption {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn value(name: &str, value: &str) -> OptionValue {
        OptionValue {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn options_are_trimmed_and_distinct() {
        let parsed = parse_options(vec![option(" Size ", &["S", " M "])]).unwrap();
        assert_eq!(parsed, vec![option("Size", &["S", "M"])]);
        assert_eq!(
            parse_options(vec![option("Size", &["S"]), option("size", &["M"])]),
            Err(VariantRuleError::InvalidOptions)
        );
        assert!(parse_options(vec![option("Size", &["S", "s"])]).is_err());
        assert!(parse_options(vec![option("Size", &[])]).is_err());
        assert!(parse_options(vec![option("", &["S"])]).is_err());
        let four = (0..4).map(|i| option(&format!("O{i}"), &["x"])).collect();
        assert_eq!(parse_options(four), Err(VariantRuleError::InvalidOptions));
    }

    #[test]
    fn option_values_follow_the_products_options() {
        let options = [
            option("Size", &["S", "M"]),
            option("Colour", &["Red", "Blue"]),
        ];
        let parsed =
            parse_option_values(&options, vec![value("colour", "blue"), value("Size", "m")])
                .unwrap();
        assert_eq!(parsed, vec![value("Size", "M"), value("Colour", "Blue")]);
        assert_eq!(title(&parsed), "M / Blue");
        assert_eq!(
            parse_option_values(&options, vec![value("Size", "XL"), value("Colour", "Red")]),
            Err(VariantRuleError::UnknownValue {
                name: "Size".into(),
                value: "XL".into()
            })
        );
        assert_eq!(
            parse_option_values(&options, vec![value("Fit", "Slim")]),
            Err(VariantRuleError::UnknownOption("Fit".into()))
        );
        assert!(matches!(
            parse_option_values(&options, vec![value("Size", "S")]),
            Err(VariantRuleError::OptionCount(_))
        ));
        assert!(matches!(
            parse_option_values(
                &options,
                vec![
                    value("Size", "S"),
                    value("Size", "M"),
                    value("Colour", "Red")
                ]
            ),
            Err(VariantRuleError::OptionCount(_))
        ));
        assert_eq!(
            parse_option_values(&[], vec![]),
            Err(VariantRuleError::NoOptions)
        );
    }

    #[test]
    fn sold_values_stay_and_options_are_fixed_while_variants_use_them() {
        let used = vec![vec![value("Size", "M")], vec![]];
        assert!(check_options_change(&[option("Size", &["M", "L"])], &used).is_ok());
        assert_eq!(
            check_options_change(&[option("Size", &["L"])], &used),
            Err(VariantRuleError::ValueInUse("Size: M".into()))
        );
        assert_eq!(
            check_options_change(&[option("Size", &["M"]), option("Colour", &["Red"])], &used),
            Err(VariantRuleError::OptionsInUse)
        );
        // Only the default variant is sold: anything goes.
        assert!(check_options_change(&[option("Colour", &["Red"])], &[vec![]]).is_ok());
    }

    #[test]
    fn compare_at_prices_are_above_the_price() {
        let money = |minor_units| Money {
            minor_units,
            currency: commerce::money::CurrencyCode::Usd,
        };
        assert!(check_compare_at(money(100), Some(money(150))).is_ok());
        assert!(check_compare_at(money(100), None).is_ok());
        assert_eq!(
            check_compare_at(money(100), Some(money(100))),
            Err(VariantRuleError::CompareAtNotAbove)
        );
        assert!(parse_barcode(Some("0123456789012".into())).is_ok());
        assert!(parse_barcode(Some("12 34".into())).is_err());
    }
}
