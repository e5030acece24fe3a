//! Collections: products an admin groups for the storefront's home page and partners' feeds,
//! either hand-picked (in the admin's order) or by a rule (category, brands, price range,
//! attribute and option values: a saved search, so new products that match join it).

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

use super::slug::{is_valid_slug, slugify};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionSort {
    /// The admin's order (hand-picked collections only).
    Manual,
    Newest,
    PriceAsc,
    PriceDesc,
}

impl CollectionSort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Manual, Self::Newest, Self::PriceAsc, Self::PriceDesc]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Which products a rule-based collection holds: all of these that are given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brand_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price_minor: Option<i64>,
    /// Attribute facet keys (`Material:Linen`), combined as search combines them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute_values: Vec<String>,
    /// Option facet keys (`Colour:Blue`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CollectionRule {
    /// Hand-picked product ids, in order.
    Products(Vec<String>),
    Filter(CollectionFilter),
}

/// A collection as the catalog keeps it, every field valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Collection {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub rule: CollectionRule,
    pub sort: CollectionSort,
    /// Shown on the storefront and to partners; drafts only to admins.
    pub published: bool,
    /// The home page's order (lowest first).
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The most products a hand-picked collection holds.
pub const MAX_PICKED: usize = 500;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CollectionError {
    #[error("a title is 1 to 100 characters")]
    InvalidTitle,
    #[error("a slug is lower-case letters, digits and dashes")]
    InvalidSlug,
    #[error("a description is at most 2000 characters")]
    InvalidDescription,
    #[error("a collection is either hand-picked (productSkus) or made by a rule (filter), not both or neither")]
    RuleRequired,
    #[error("a hand-picked collection holds 1 to {MAX_PICKED} products")]
    InvalidPicks,
    #[error("no product has the SKU {0}")]
    UnknownSku(String),
    #[error("only hand-picked collections keep the admin's order")]
    ManualSortNeedsPicks,
    #[error("the price range is empty or negative")]
    InvalidPriceRange,
    #[error("this slug is already used by another collection")]
    SlugTaken,
}

impl CollectionError {
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidTitle => "title",
            Self::InvalidSlug | Self::SlugTaken => "slug",
            Self::InvalidDescription => "description",
            Self::RuleRequired => "filter",
            Self::InvalidPicks | Self::UnknownSku(_) => "productSkus",
            Self::ManualSortNeedsPicks => "sort",
            Self::InvalidPriceRange => "filter",
        }
    }
}

pub fn parse_title(title: &str) -> Result<String, CollectionError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(CollectionError::InvalidTitle);
    }
    Ok(title.into())
}

/// The given slug, or one made from the title.
pub fn parse_slug(slug: Option<&str>, title: &str) -> Result<String, CollectionError> {
    match slug.map(str::trim) {
        Some(slug) if is_valid_slug(slug) => Ok(slug.into()),
        Some(_) => Err(CollectionError::InvalidSlug),
        None => {
            let made = slugify(title);
            if is_valid_slug(&made) {
                Ok(made)
            } else {
                Err(CollectionError::InvalidSlug)
            }
        }
    }
}

pub fn parse_description(description: &str) -> Result<String, CollectionError> {
    let description = description.trim();
    if description.chars().count() > 2000 {
        return Err(CollectionError::InvalidDescription);
    }
    Ok(description.into())
}

/// A rule and sort that fit together: the admin's order only for hand-picked products (which
/// are given at least once, at most [`MAX_PICKED`], each once), a price range that is one.
pub fn check_rule(rule: &CollectionRule, sort: CollectionSort) -> Result<(), CollectionError> {
    match rule {
        CollectionRule::Products(ids) => {
            let mut seen = ids.clone();
            seen.sort();
            seen.dedup();
            if ids.is_empty() || ids.len() > MAX_PICKED || seen.len() != ids.len() {
                return Err(CollectionError::InvalidPicks);
            }
        }
        CollectionRule::Filter(filter) => {
            if sort == CollectionSort::Manual {
                return Err(CollectionError::ManualSortNeedsPicks);
            }
            let negative = filter.min_price_minor.is_some_and(|m| m < 0)
                || filter.max_price_minor.is_some_and(|m| m < 0);
            let empty = matches!(
                (filter.min_price_minor, filter.max_price_minor),
                (Some(min), Some(max)) if min > max
            );
            if negative || empty {
                return Err(CollectionError::InvalidPriceRange);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_sorts_must_fit() {
        let picks = CollectionRule::Products(vec!["prod_1".into(), "prod_2".into()]);
        assert!(check_rule(&picks, CollectionSort::Manual).is_ok());
        assert!(check_rule(&picks, CollectionSort::PriceAsc).is_ok());
        assert_eq!(
            check_rule(&CollectionRule::Products(vec![]), CollectionSort::Manual),
            Err(CollectionError::InvalidPicks)
        );
        assert_eq!(
            check_rule(
                &CollectionRule::Products(vec!["prod_1".into(), "prod_1".into()]),
                CollectionSort::Manual
            ),
            Err(CollectionError::InvalidPicks)
        );
        let cheap = CollectionRule::Filter(CollectionFilter {
            max_price_minor: Some(2_500),
            ..Default::default()
        });
        assert!(check_rule(&cheap, CollectionSort::PriceAsc).is_ok());
        assert_eq!(
            check_rule(&cheap, CollectionSort::Manual),
            Err(CollectionError::ManualSortNeedsPicks)
        );
        let backwards = CollectionRule::Filter(CollectionFilter {
            min_price_minor: Some(5_000),
            max_price_minor: Some(1_000),
            ..Default::default()
        });
        assert_eq!(
            check_rule(&backwards, CollectionSort::Newest),
            Err(CollectionError::InvalidPriceRange)
        );
    }

    #[test]
    fn titles_and_slugs() {
        assert_eq!(parse_slug(None, "Under $25!"), Ok("under-25".into()));
        assert_eq!(
            parse_slug(Some("Bad Slug"), "x"),
            Err(CollectionError::InvalidSlug)
        );
        assert_eq!(parse_title("  "), Err(CollectionError::InvalidTitle));
        assert_eq!(
            CollectionSort::parse(CollectionSort::PriceDesc.as_str()),
            Some(CollectionSort::PriceDesc)
        );
    }
}
