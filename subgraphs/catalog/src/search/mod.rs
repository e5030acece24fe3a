//! Product search: the engine contract, the embedded tantivy engine, and the indexer that keeps
//! the index in step with the database through the outbox.

pub mod indexer;
pub mod meilisearch_engine;
pub mod tantivy_engine;
mod tantivy_facets;

use async_trait::async_trait;

/// What the index holds for one active product.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchDocument {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub brand_id: Option<String>,
    pub brand_name: Option<String>,
    pub category_id: String,
    /// The category and its ancestors, root first.
    pub category_path: Vec<String>,
    pub category_names: Vec<String>,
    pub price_minor: i64,
    pub created_at: i64,
    /// The option values its variants on sale have, as [`option_facet`] keys ("Colour:Blue").
    pub options: Vec<String>,
    /// Its values of the attributes shoppers filter by (choices, yes/no), keyed the same way
    /// ("Material:Linen").
    pub attributes: Vec<String>,
}

/// The facet key of an option's (or an attribute's) value: `name:value` ("Colour:Blue").
pub fn option_facet(name: &str, value: &str) -> String {
    format!("{name}:{value}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SearchSort {
    #[default]
    Relevance,
    PriceAscending,
    PriceDescending,
    Newest,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchRequest {
    /// Free text; any characters are safe (no query syntax is interpreted).
    pub query: String,
    /// Products in this category or below it.
    pub category_id: Option<String>,
    /// Products of any of these brands.
    pub brand_ids: Vec<String>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    /// Products with a variant on sale of each of these option values ([`option_facet`] keys);
    /// values of one option are alternatives, different options must all match.
    pub option_values: Vec<String>,
    /// Products with each of these attribute values (keys as for options, grouped the same way).
    pub attribute_values: Vec<String>,
    pub sort: SearchSort,
    pub offset: usize,
    pub limit: usize,
}

/// Price facet buckets in minor units: `[from, to)`, the last one open-ended.
pub const PRICE_BUCKETS: &[(i64, Option<i64>)] = &[
    (0, Some(2_500)),
    (2_500, Some(5_000)),
    (5_000, Some(10_000)),
    (10_000, Some(25_000)),
    (25_000, Some(50_000)),
    (50_000, None),
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchResults {
    /// Product ids in result order.
    pub ids: Vec<String>,
    pub total: u64,
    /// `(brand id, count)`, most frequent first.
    pub brands: Vec<(String, u64)>,
    /// `(category id, count)` by the products' own category, most frequent first.
    pub categories: Vec<(String, u64)>,
    /// Counts per [`PRICE_BUCKETS`] entry, same order; empty buckets included.
    pub prices: Vec<u64>,
    /// `(option facet key, count)`, most frequent first.
    pub options: Vec<(String, u64)>,
    /// `(attribute facet key, count)`, most frequent first.
    pub attributes: Vec<(String, u64)>,
}

/// Option (or attribute) filters grouped by name: `[(name, [keys])]`, so values of one option are
/// alternatives and different options must all match.
pub fn option_groups(keys: &[String]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for key in keys {
        let name = key.split_once(':').map_or(key.as_str(), |(name, _)| name);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(key),
            None => groups.push((name, vec![key])),
        }
    }
    groups
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(String),
}

impl From<SearchError> for kit::ApiError {
    fn from(error: SearchError) -> Self {
        kit::ApiError::internal(error)
    }
}

/// The behaviour every engine (embedded tantivy, Meilisearch) must show: the contract tests in
/// `tests/api/search_contract.rs` run against each available one.
#[async_trait]
pub trait SearchEngine: Send + Sync {
    /// Adds or replaces `upserts` and removes `removals`; visible to searches when it returns.
    async fn apply(
        &self,
        upserts: Vec<SearchDocument>,
        removals: Vec<String>,
    ) -> Result<(), SearchError>;
    async fn clear(&self) -> Result<(), SearchError>;
    async fn search(&self, request: SearchRequest) -> Result<SearchResults, SearchError>;
    async fn document_count(&self) -> Result<u64, SearchError>;
}

/// The edit distance tolerated for a query word of this length (as Meilisearch does: none for
/// short words, one from 5 characters, two from 9).
pub fn typo_budget(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}
