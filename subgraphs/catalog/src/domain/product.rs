use async_graphql::{Enum, InputObject, SimpleObject};
use commerce::money::{Money, MoneyError};
use serde::{Deserialize, Serialize};

use super::slug::{is_valid_slug, slugify};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(Self::Draft),
            "active" => Some(Self::Active),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// A product as the catalog knows it, every field valid (parsed from storage once, see
/// `TryFrom<ProductRow>` in `store`).
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub brand_id: Option<String>,
    pub category_id: String,
    pub price: Money,
    pub attributes: Vec<Attribute>,
    pub media: Vec<super::media::Media>,
    pub status: ProductStatus,
    pub weight_grams: Option<i64>,
    /// Empty for a product sold as its default variant.
    pub options: Vec<super::ProductOption>,
    /// What search engines and shared links show, when an admin wrote it.
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    /// What its variants are taxed as.
    pub tax_class: commerce::tax::TaxClass,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Product {
    /// Drafts and archived products are shown to admins only, except by entity reference (so
    /// orders and carts keep showing what was bought) and in the search index (active only).
    pub fn is_listed_for(&self, admin: bool) -> bool {
        self.status == ProductStatus::Active || admin
    }
}

/// A named product property ("color": "red").
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "AttributeInput")]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// Why a product change was refused; `field` names the input field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProductRuleError {
    #[error("name must be 1 to 200 characters")]
    InvalidName,
    #[error("SKU must be 3 to 64 letters, digits or dashes")]
    InvalidSku,
    #[error("slug must be lower-case letters, digits and dashes")]
    InvalidSlug,
    #[error("description must be at most 10000 characters")]
    InvalidDescription,
    #[error("price: {0}")]
    InvalidPrice(#[from] MoneyError),
    #[error("weight must not be negative")]
    InvalidWeight,
    #[error("attributes need a name and a value of at most 200 characters")]
    InvalidAttribute,
    #[error("the meta title must be at most 200 characters")]
    InvalidMetaTitle,
    #[error("the meta description must be at most 500 characters")]
    InvalidMetaDescription,
}

impl ProductRuleError {
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidName => "name",
            Self::InvalidSku => "sku",
            Self::InvalidSlug => "slug",
            Self::InvalidDescription => "description",
            Self::InvalidPrice(_) => "price",
            Self::InvalidWeight => "weightGrams",
            Self::InvalidAttribute => "attributes",
            Self::InvalidMetaTitle => "metaTitle",
            Self::InvalidMetaDescription => "metaDescription",
        }
    }
}

pub fn parse_name(name: &str) -> Result<String, ProductRuleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ProductRuleError::InvalidName);
    }
    Ok(name.into())
}

pub fn parse_sku(sku: &str) -> Result<String, ProductRuleError> {
    let sku = sku.trim().to_uppercase();
    let ok = (3..=64).contains(&sku.len())
        && sku.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(sku)
    } else {
        Err(ProductRuleError::InvalidSku)
    }
}

/// The given slug, or one made from the name and SKU (unique because SKUs are).
pub fn parse_slug(slug: Option<&str>, name: &str, sku: &str) -> Result<String, ProductRuleError> {
    match slug {
        Some(slug) if is_valid_slug(slug) => Ok(slug.into()),
        Some(_) => Err(ProductRuleError::InvalidSlug),
        None => Ok(format!("{}-{}", slugify(name), slugify(sku))),
    }
}

pub fn parse_description(text: &str) -> Result<String, ProductRuleError> {
    if text.chars().count() > 10_000 {
        return Err(ProductRuleError::InvalidDescription);
    }
    Ok(text.trim().into())
}

pub fn parse_price(price: &commerce::money::MoneyInput) -> Result<Money, ProductRuleError> {
    Ok(price.parse()?)
}

pub fn parse_weight(grams: Option<i32>) -> Result<Option<i64>, ProductRuleError> {
    match grams {
        Some(g) if g < 0 => Err(ProductRuleError::InvalidWeight),
        other => Ok(other.map(i64::from)),
    }
}

/// An admin's meta title: trimmed, blank for none (the name is shown then).
pub fn parse_meta_title(title: Option<String>) -> Result<Option<String>, ProductRuleError> {
    optional_text(title, 200).ok_or(ProductRuleError::InvalidMetaTitle)
}

/// An admin's meta description: trimmed, blank for none (the description is shown then).
pub fn parse_meta_description(
    description: Option<String>,
) -> Result<Option<String>, ProductRuleError> {
    optional_text(description, 500).ok_or(ProductRuleError::InvalidMetaDescription)
}

/// `Some(value)` when it fits in `max` characters (`Some(None)` for blank or none).
fn optional_text(text: Option<String>, max: usize) -> Option<Option<String>> {
    match text.map(|t| t.trim().to_string()) {
        Some(t) if t.chars().count() > max => None,
        Some(t) if t.is_empty() => Some(None),
        t => Some(t),
    }
}

pub fn parse_attributes(attributes: Vec<Attribute>) -> Result<Vec<Attribute>, ProductRuleError> {
    attributes
        .into_iter()
        .map(|a| {
            let (name, value) = (a.name.trim(), a.value.trim());
            if name.is_empty() || value.is_empty() || name.len() > 200 || value.len() > 200 {
                Err(ProductRuleError::InvalidAttribute)
            } else {
                Ok(Attribute {
                    name: name.into(),
                    value: value.into(),
                })
            }
        })
        .collect()
}
