//! Collections: an admin makes, changes and deletes them; the storefront and partners read the
//! published ones with their products (hand-picked ones from the database, rule-based ones
//! from search, so products that come to match a rule join it as they are indexed).

use primitives::id::new_id;
use primitives::time::now_millis;

use super::{CatalogError, CatalogResult, CatalogService};
use crate::domain::collection::{
    self, Collection, CollectionError, CollectionFilter, CollectionRule, CollectionSort,
};
use crate::domain::{Product, ProductStatus};
use crate::search::indexer::IndexerError;
use crate::search::{option_groups, SearchDocument, SearchRequest, SearchSort};
use crate::store::StoreError;

/// A collection as an admin describes it (to make one, or to replace one wholly).
#[derive(Clone, Debug)]
pub struct CollectionInput {
    pub title: String,
    /// Made from the title when not given.
    pub slug: Option<String>,
    pub description: String,
    /// Hand-picked products by SKU (a product's or one of its variants'), in order.
    pub product_skus: Option<Vec<String>>,
    pub filter: Option<CollectionFilter>,
    pub sort: CollectionSort,
    pub published: bool,
    /// The home page's order; after the others when not given.
    pub position: Option<i64>,
}

/// Whether a product with search document `doc` matches a rule, as search matches it: in the
/// category or below, of one of the brands, within the price range, and with one of the values
/// of each option and attribute named.
fn rule_holds(filter: &CollectionFilter, doc: &SearchDocument) -> bool {
    let facets_hold = |wanted: &[String], had: &[String]| {
        option_groups(wanted)
            .iter()
            .all(|(_, keys)| keys.iter().any(|key| had.iter().any(|h| h == key)))
    };
    filter
        .category_id
        .as_ref()
        .is_none_or(|c| doc.category_path.contains(c))
        && (filter.brand_ids.is_empty()
            || doc
                .brand_id
                .as_ref()
                .is_some_and(|b| filter.brand_ids.contains(b)))
        && filter
            .min_price_minor
            .is_none_or(|min| doc.price_minor >= min)
        && filter
            .max_price_minor
            .is_none_or(|max| doc.price_minor <= max)
        && facets_hold(&filter.option_values, &doc.options)
        && facets_hold(&filter.attribute_values, &doc.attributes)
}

impl CatalogService {
    /// The ids of the collections (published or not) that hold each of `product_ids`: picked by
    /// hand, or matched by a rule as search matches it. Archived and draft products are in none.
    pub async fn collections_holding(
        &self,
        product_ids: &[String],
    ) -> CatalogResult<Vec<(String, Vec<String>)>> {
        let products = self
            .store
            .products_by_ids(product_ids)
            .await?
            .into_iter()
            .map(Product::try_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let active: Vec<Product> = products
            .into_iter()
            .filter(|p| p.status == ProductStatus::Active)
            .collect();
        let documents = self.indexer.documents(&active).await.map_err(|e| match e {
            IndexerError::Store(e) => CatalogError::from(e),
            IndexerError::Search(e) => CatalogError::Search(e),
        })?;
        let collections = self.store.collections().await?;
        Ok(product_ids
            .iter()
            .map(|id| {
                let doc = documents.iter().find(|d| &d.id == id);
                let holding = collections
                    .iter()
                    .filter(|c| match (&c.rule, doc) {
                        (_, None) => false,
                        (CollectionRule::Products(ids), Some(_)) => ids.contains(id),
                        (CollectionRule::Filter(filter), Some(doc)) => rule_holds(filter, doc),
                    })
                    .map(|c| c.id.clone())
                    .collect();
                (id.clone(), holding)
            })
            .collect())
    }

    pub async fn collections(&self) -> CatalogResult<Vec<Collection>> {
        Ok(self.store.collections().await?)
    }

    pub async fn create_collection(&self, input: CollectionInput) -> CatalogResult<Collection> {
        let now = now_millis();
        let position = match input.position {
            Some(position) => position,
            None => next_position(&self.store.collections().await?),
        };
        let collection = Collection {
            id: new_id("col"),
            created_at: now,
            updated_at: now,
            position,
            ..self.checked_collection(input).await?
        };
        self.store
            .insert_collection(&collection)
            .await
            .map_err(slug_taken)?;
        Ok(collection)
    }

    pub async fn update_collection(
        &self,
        id: &str,
        input: CollectionInput,
    ) -> CatalogResult<Collection> {
        let current = self
            .store
            .collections()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(CatalogError::CollectionNotFound)?;
        let position = input.position.unwrap_or(current.position);
        let collection = Collection {
            id: current.id,
            created_at: current.created_at,
            updated_at: now_millis().max(current.updated_at + 1),
            position,
            ..self.checked_collection(input).await?
        };
        if !self
            .store
            .replace_collection(&collection)
            .await
            .map_err(slug_taken)?
        {
            return Err(CatalogError::CollectionNotFound);
        }
        Ok(collection)
    }

    pub async fn delete_collection(&self, id: &str) -> CatalogResult<()> {
        if !self.store.delete_collection(id).await? {
            return Err(CatalogError::CollectionNotFound);
        }
        Ok(())
    }

    /// The ids of the collection's active products, `limit` from `offset`, and how many there
    /// are in all.
    pub async fn collection_products(
        &self,
        collection: &Collection,
        offset: usize,
        limit: usize,
    ) -> CatalogResult<(Vec<String>, u64)> {
        match &collection.rule {
            CollectionRule::Products(ids) => {
                let mut products = self
                    .store
                    .products_by_ids(ids)
                    .await?
                    .into_iter()
                    .map(Product::try_from)
                    .collect::<Result<Vec<_>, StoreError>>()?;
                products.retain(|p| p.status == ProductStatus::Active);
                match collection.sort {
                    CollectionSort::Manual => {
                        products.sort_by_key(|p| ids.iter().position(|id| *id == p.id))
                    }
                    CollectionSort::Newest => {
                        products.sort_by_key(|p| std::cmp::Reverse(p.created_at))
                    }
                    CollectionSort::PriceAsc => products.sort_by_key(|p| p.price.minor_units),
                    CollectionSort::PriceDesc => {
                        products.sort_by_key(|p| std::cmp::Reverse(p.price.minor_units))
                    }
                }
                let total = products.len() as u64;
                let page = products
                    .into_iter()
                    .skip(offset)
                    .take(limit)
                    .map(|p| p.id)
                    .collect();
                Ok((page, total))
            }
            CollectionRule::Filter(filter) => {
                let results = self
                    .search
                    .search(SearchRequest {
                        query: String::new(),
                        category_id: filter.category_id.clone(),
                        brand_ids: filter.brand_ids.clone(),
                        min_price_minor: filter.min_price_minor,
                        max_price_minor: filter.max_price_minor,
                        option_values: filter.option_values.clone(),
                        attribute_values: filter.attribute_values.clone(),
                        sort: match collection.sort {
                            CollectionSort::PriceAsc => SearchSort::PriceAscending,
                            CollectionSort::PriceDesc => SearchSort::PriceDescending,
                            CollectionSort::Newest | CollectionSort::Manual => SearchSort::Newest,
                        },
                        offset,
                        limit,
                    })
                    .await?;
                Ok((results.ids, results.total))
            }
        }
    }

    /// Everything but the id, times and position, checked: the title, slug and description, a
    /// rule of SKUs that exist (as product ids) or a filter of a known category and brands.
    async fn checked_collection(&self, input: CollectionInput) -> CatalogResult<Collection> {
        let title = collection::parse_title(&input.title)?;
        let slug = collection::parse_slug(input.slug.as_deref(), &title)?;
        let description = collection::parse_description(&input.description)?;
        let rule = match (input.product_skus, input.filter) {
            (Some(skus), None) => CollectionRule::Products(self.product_ids_of(&skus).await?),
            (None, Some(filter)) => {
                if let Some(category) = &filter.category_id {
                    self.existing_category(category).await?;
                }
                for brand in &filter.brand_ids {
                    self.existing_brand(Some(brand.clone())).await?;
                }
                CollectionRule::Filter(filter)
            }
            _ => return Err(CollectionError::RuleRequired.into()),
        };
        collection::check_rule(&rule, input.sort)?;
        Ok(Collection {
            id: String::new(),
            slug,
            title,
            description,
            rule,
            sort: input.sort,
            published: input.published,
            position: 0,
            created_at: 0,
            updated_at: 0,
        })
    }

    /// The products with these SKUs (a product's own, or one of its variants'), in order.
    async fn product_ids_of(&self, skus: &[String]) -> CatalogResult<Vec<String>> {
        if skus.is_empty() || skus.len() > collection::MAX_PICKED {
            return Err(CollectionError::InvalidPicks.into());
        }
        let skus: Vec<String> = skus.iter().map(|s| s.trim().to_uppercase()).collect();
        let products = self.store.products_by_skus(&skus).await?;
        let variants = self.store.variants_by_skus(&skus).await?;
        skus.iter()
            .map(|sku| {
                products
                    .iter()
                    .find(|p| &p.sku == sku)
                    .map(|p| p.id.clone())
                    .or_else(|| {
                        variants
                            .iter()
                            .find(|v| &v.sku == sku)
                            .map(|v| v.product_id.clone())
                    })
                    .ok_or_else(|| CollectionError::UnknownSku(sku.clone()).into())
            })
            .collect()
    }
}

/// A slug another collection has, as the rule it breaks.
fn slug_taken(error: StoreError) -> CatalogError {
    match error {
        StoreError::Duplicate(_) => CollectionError::SlugTaken.into(),
        other => other.into(),
    }
}

fn next_position(collections: &[Collection]) -> i64 {
    collections
        .iter()
        .map(|c| c.position + 1)
        .max()
        .unwrap_or(0)
}
