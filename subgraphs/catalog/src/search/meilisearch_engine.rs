//! Meilisearch through meilisearch-sdk, for production (shared by every catalog replica). Same
//! contract as the embedded engine: every word must match, typos by word length, the last word as
//! a prefix, filters, sorts and facet counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::MatchingStrategies;
use meilisearch_sdk::settings::{PaginationSetting, Settings};
use serde::{Deserialize, Serialize};

use super::*;

const TASK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Serialize, Deserialize)]
struct Document {
    id: String,
    sku: String,
    name: String,
    description: String,
    brand_id: Option<String>,
    brand_name: Option<String>,
    category_id: String,
    category_path: Vec<String>,
    category_names: Vec<String>,
    price: i64,
    created_at: i64,
    options: Vec<String>,
    attributes: Vec<String>,
}

impl From<SearchDocument> for Document {
    fn from(d: SearchDocument) -> Self {
        Self {
            id: d.id,
            sku: d.sku,
            name: d.name,
            description: d.description,
            brand_id: d.brand_id,
            brand_name: d.brand_name,
            category_id: d.category_id,
            category_path: d.category_path,
            category_names: d.category_names,
            price: d.price_minor,
            created_at: d.created_at,
            options: d.options,
            attributes: d.attributes,
        }
    }
}

#[derive(Deserialize)]
struct Hit {
    id: String,
}

pub struct MeilisearchEngine {
    client: Client,
    index: Index,
}

fn meili_error(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(format!("meilisearch: {e}"))
}

/// A quoted filter value: Meilisearch filter strings escape `\` and `"`.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

impl MeilisearchEngine {
    /// Connects, creating the index and applying its settings (idempotent).
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
    ) -> Result<Self, SearchError> {
        let client = Client::new(url, api_key).map_err(meili_error)?;
        let task = client
            .create_index(index_uid, Some("id"))
            .await
            .map_err(meili_error)?;
        // An existing index makes this task fail; that is fine.
        let _ = task
            .wait_for_completion(&client, None, Some(TASK_TIMEOUT))
            .await;
        let index = client.index(index_uid);
        let settings = Settings::new()
            .with_searchable_attributes([
                "name",
                "brand_name",
                "category_names",
                "sku",
                "description",
            ])
            .with_filterable_attributes([
                "brand_id",
                "category_id",
                "category_path",
                "price",
                "options",
                "attributes",
            ])
            .with_sortable_attributes(["price", "created_at"])
            .with_pagination(PaginationSetting {
                max_total_hits: 10_100,
            });
        let task = index.set_settings(&settings).await.map_err(meili_error)?;
        Self::wait(&client, task).await?;
        Ok(Self { client, index })
    }

    async fn wait(
        client: &Client,
        task: meilisearch_sdk::task_info::TaskInfo,
    ) -> Result<(), SearchError> {
        let done = task
            .wait_for_completion(client, None, Some(TASK_TIMEOUT))
            .await
            .map_err(meili_error)?;
        if done.is_failure() {
            return Err(meili_error(format!("{done:?}")));
        }
        Ok(())
    }

    fn filters(request: &SearchRequest) -> Vec<String> {
        let mut filters = Vec::new();
        if let Some(category) = &request.category_id {
            filters.push(format!("category_path = {}", quoted(category)));
        }
        if !request.brand_ids.is_empty() {
            let brands: Vec<String> = request.brand_ids.iter().map(|b| quoted(b)).collect();
            filters.push(format!("brand_id IN [{}]", brands.join(", ")));
        }
        let facet_filters = [
            ("options", &request.option_values),
            ("attributes", &request.attribute_values),
        ];
        for (field, keys) in facet_filters {
            for (_, keys) in option_groups(keys) {
                let values: Vec<String> = keys.iter().map(|k| quoted(k)).collect();
                filters.push(format!("{field} IN [{}]", values.join(", ")));
            }
        }
        if let Some(min) = request.min_price_minor {
            filters.push(format!("price >= {min}"));
        }
        if let Some(max) = request.max_price_minor {
            filters.push(format!("price <= {max}"));
        }
        filters
    }

    /// Matches of `request` within one price bucket (for the price facet).
    async fn bucket_count(
        &self,
        request: &SearchRequest,
        from: i64,
        to: Option<i64>,
    ) -> Result<u64, SearchError> {
        let mut filters = Self::filters(request);
        filters.push(format!("price >= {from}"));
        if let Some(to) = to {
            filters.push(format!("price < {to}"));
        }
        let filter = filters.join(" AND ");
        let results = self
            .index
            .search()
            .with_query(&request.query)
            .with_filter(&filter)
            .with_limit(0)
            .with_matching_strategy(MatchingStrategies::ALL)
            .execute::<Hit>()
            .await
            .map_err(meili_error)?;
        Ok(results.estimated_total_hits.unwrap_or(0) as u64)
    }
}

fn sorted_counts(distribution: Option<&HashMap<String, usize>>) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = distribution
        .map(|d| {
            d.iter()
                .map(|(k, v)| (k.clone(), *v as u64))
                .filter(|(_, v)| *v > 0)
                .collect()
        })
        .unwrap_or_default();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

#[async_trait]
impl SearchEngine for MeilisearchEngine {
    async fn apply(
        &self,
        upserts: Vec<SearchDocument>,
        removals: Vec<String>,
    ) -> Result<(), SearchError> {
        if !removals.is_empty() {
            let task = self
                .index
                .delete_documents(&removals)
                .await
                .map_err(meili_error)?;
            Self::wait(&self.client, task).await?;
        }
        if !upserts.is_empty() {
            let documents: Vec<Document> = upserts.into_iter().map(Document::from).collect();
            let task = self
                .index
                .add_or_replace(&documents, Some("id"))
                .await
                .map_err(meili_error)?;
            Self::wait(&self.client, task).await?;
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), SearchError> {
        let task = self
            .index
            .delete_all_documents()
            .await
            .map_err(meili_error)?;
        Self::wait(&self.client, task).await
    }

    async fn search(&self, request: SearchRequest) -> Result<SearchResults, SearchError> {
        let filter = Self::filters(&request).join(" AND ");
        let sort: &[&str] = match request.sort {
            SearchSort::Relevance => &[],
            SearchSort::PriceAscending => &["price:asc"],
            SearchSort::PriceDescending => &["price:desc"],
            SearchSort::Newest => &["created_at:desc"],
        };
        let mut query = self.index.search();
        query
            .with_query(&request.query)
            .with_offset(request.offset)
            .with_limit(request.limit)
            .with_matching_strategy(MatchingStrategies::ALL)
            .with_facets(meilisearch_sdk::search::Selectors::Some(&[
                "brand_id",
                "category_id",
                "options",
                "attributes",
            ]));
        if !filter.is_empty() {
            query.with_filter(&filter);
        }
        if !sort.is_empty() {
            query.with_sort(sort);
        }
        let results = query.execute::<Hit>().await.map_err(meili_error)?;
        let buckets = futures_util::future::try_join_all(
            PRICE_BUCKETS
                .iter()
                .map(|(from, to)| self.bucket_count(&request, *from, *to)),
        )
        .await?;
        let facets = results.facet_distribution.unwrap_or_default();
        Ok(SearchResults {
            ids: results.hits.into_iter().map(|h| h.result.id).collect(),
            total: results.estimated_total_hits.unwrap_or(0) as u64,
            brands: sorted_counts(facets.get("brand_id")),
            categories: sorted_counts(facets.get("category_id")),
            prices: buckets,
            options: sorted_counts(facets.get("options")),
            attributes: sorted_counts(facets.get("attributes")),
        })
    }

    async fn document_count(&self) -> Result<u64, SearchError> {
        let stats = self.index.get_stats().await.map_err(meili_error)?;
        Ok(stats.number_of_documents as u64)
    }
}

/// For the contract tests: an engine on a fresh index when `MEILISEARCH_URL` is set.
pub async fn from_env_for_tests() -> Option<Arc<dyn SearchEngine>> {
    let url = std::env::var("MEILISEARCH_URL").ok()?;
    let key = std::env::var("MEILISEARCH_API_KEY").ok();
    let uid = primitives::id::new_id("test");
    let engine = MeilisearchEngine::connect(&url, key.as_deref(), &uid)
        .await
        .expect("MEILISEARCH_URL is set but Meilisearch cannot be reached");
    Some(Arc::new(engine))
}
