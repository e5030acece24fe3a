//! Catalog rules: product create/update/archive (validated, saved with a `ProductChanged` event),
//! options and variants (in `variants`), brands and the category tree.

mod collections;
mod export;
mod import;
mod import_jobs;
mod media;
mod variants;

pub use collections::CollectionInput;
pub use export::ExportDownload;
pub use import::{ImportProgress, ImportReport};
pub use media::{MediaChanges, MediaInput};
pub use variants::{NewListing, NewVariant, VariantChanges};

use std::collections::HashMap;
use std::sync::Arc;

use commerce::money::MoneyInput;
use commerce::tax::TaxClass;
use kit::subgraph::Events;
use primitives::id::new_id;
use primitives::time::now_millis;

use crate::domain::attributes::{self, AttributeDefinition, AttributeError};
use crate::domain::collection::CollectionError;
use crate::domain::media::MediaError;
use crate::domain::product::{self, ProductRuleError};
use crate::domain::slug::{is_valid_slug, slugify};
use crate::domain::{Attribute, ProductStatus, VariantRuleError};
use crate::export_store::ExportStore;
use crate::media_store::MediaStore;
use crate::search::indexer::Indexer;
use crate::search::SearchEngine;
use crate::store::{BrandRow, CatalogStore, CategoryRow, ProductRow, StoreError, VariantRow};
use crate::tree::{attribute_definitions, category_subtree};
use events::catalog::ProductChanged;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Rule(#[from] ProductRuleError),
    #[error(transparent)]
    VariantRule(#[from] VariantRuleError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Attribute(#[from] AttributeError),
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error("collection not found")]
    CollectionNotFound,
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
    /// The image store failed (not the image).
    #[error("storing the image failed: {0}")]
    MediaStore(String),
    #[error("no category with this id")]
    UnknownCategory,
    #[error("no brand with this id")]
    UnknownBrand,
    #[error("a product with this SKU already exists")]
    SkuTaken,
    #[error("this slug is already used")]
    SlugTaken,
    #[error("name must be 1 to 100 characters")]
    InvalidName,
    #[error("product not found")]
    ProductNotFound,
    #[error("variant not found")]
    VariantNotFound,
    #[error("prices must be in {}, the shop's currency", .0.as_str())]
    OtherCurrency(commerce::money::CurrencyCode),
    #[error("export: {0}")]
    Export(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate("sku") => Self::SkuTaken,
            StoreError::Duplicate("slug") => Self::SlugTaken,
            StoreError::Duplicate("option values") => {
                VariantRuleError::DuplicateCombination("these option values".into()).into()
            }
            other => Self::Store(other),
        }
    }
}

pub type CatalogResult<T> = Result<T, CatalogError>;

/// A new product as entered by an admin.
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub slug: Option<String>,
    pub description: String,
    pub brand_id: Option<String>,
    pub category_id: String,
    pub price: MoneyInput,
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaInput>,
    pub status: ProductStatus,
    pub weight_grams: Option<i32>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub tax_class: TaxClass,
}

/// Changes to a product; `None` keeps the current value.
#[derive(Default)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub brand_id: Option<Option<String>>,
    pub category_id: Option<String>,
    pub price: Option<MoneyInput>,
    pub attributes: Option<Vec<Attribute>>,
    pub media: Option<Vec<MediaInput>>,
    pub status: Option<ProductStatus>,
    pub weight_grams: Option<Option<i32>>,
    /// `Some(None)` goes back to the name (the description).
    pub meta_title: Option<Option<String>>,
    pub meta_description: Option<Option<String>>,
    pub tax_class: Option<TaxClass>,
}

pub struct CatalogService {
    pub store: Arc<CatalogStore>,
    pub search: Arc<dyn SearchEngine>,
    pub indexer: Indexer,
    pub media: Arc<MediaStore>,
    pub exports: Arc<ExportStore>,
    events: Events,
    /// The shop's one currency.
    currency: commerce::money::CurrencyCode,
    /// Counts the imports this process ended, so callers can await one.
    imports_ended: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Attributes as given, checked by the free-form rules and then against the definitions of
/// `category_id` (and its ancestors).
fn checked_attributes(
    tree: &HashMap<String, CategoryRow>,
    category_id: &str,
    given: Vec<Attribute>,
) -> CatalogResult<Vec<Attribute>> {
    let given = product::parse_attributes(given)?;
    let name = tree
        .get(category_id)
        .map_or(category_id, |c| c.name.as_str());
    Ok(attributes::check_attributes(
        given,
        &attribute_definitions(tree, category_id),
        name,
    )?)
}

/// The category tree by id.
fn tree_of(categories: Vec<CategoryRow>) -> HashMap<String, CategoryRow> {
    categories.into_iter().map(|c| (c.id.clone(), c)).collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

impl CatalogService {
    pub fn new(
        store: Arc<CatalogStore>,
        search: Arc<dyn SearchEngine>,
        media: Arc<MediaStore>,
        events: Events,
        currency: commerce::money::CurrencyCode,
    ) -> Self {
        let indexer = Indexer::new(store.clone(), search.clone());
        let exports = Arc::new(ExportStore::new(
            media.objects(),
            media.public_url().to_string(),
        ));
        Self {
            exports,
            store,
            search,
            indexer,
            media,
            events,
            currency,
            imports_ended: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }

    /// The one currency the shop sells in.
    pub fn currency(&self) -> commerce::money::CurrencyCode {
        self.currency
    }

    /// A price as entered, in the shop's currency only.
    pub(crate) fn price(
        &self,
        input: &commerce::money::MoneyInput,
    ) -> CatalogResult<commerce::money::Money> {
        let price = product::parse_price(input)?;
        if price.currency != self.currency {
            return Err(CatalogError::OtherCurrency(self.currency));
        }
        Ok(price)
    }

    /// Saves a product (new when `replaces` is `None`) and `variants` with its `ProductChanged`
    /// event, and wakes the relay.
    async fn save(
        &self,
        row: &ProductRow,
        replaces: Option<i64>,
        variants: &[VariantRow],
    ) -> CatalogResult<()> {
        let event = self.product_changed(row);
        self.store
            .save_product(row, replaces, variants, &event)
            .await?;
        Ok(())
    }

    fn product_changed(&self, row: &ProductRow) -> event_bus::Event {
        self.events.event(&ProductChanged {
            product_id: row.id.clone(),
            status: row.status.clone(),
        })
    }

    /// Reads a product and its variants, lets `change` change them (returning the variants it
    /// changed or made), and saves the result; when another change saved the product in
    /// between, it starts over from what that change left (a few times, then gives up).
    async fn modify<F>(
        &self,
        id: &str,
        mut change: F,
    ) -> CatalogResult<(ProductRow, Vec<VariantRow>)>
    where
        F: FnMut(&mut ProductRow, &[VariantRow]) -> CatalogResult<Vec<VariantRow>>,
    {
        let mut attempts = 0;
        loop {
            let mut row = self
                .store
                .products_by_ids(&[id.to_string()])
                .await?
                .pop()
                .ok_or(CatalogError::ProductNotFound)?;
            let variants = self.store.variants_of_products(&[id.to_string()]).await?;
            let replaces = row.updated_at;
            let changed = change(&mut row, &variants)?;
            row.updated_at = now_millis().max(replaces + 1);
            match self.save(&row, Some(replaces), &changed).await {
                Err(CatalogError::Store(StoreError::Conflict)) if attempts < 10 => attempts += 1,
                Err(error) => return Err(error),
                Ok(()) => return Ok((row, changed)),
            }
        }
    }

    pub async fn create_product(&self, input: NewProduct) -> CatalogResult<ProductRow> {
        // The tree is read once: for the category and for its attribute definitions.
        let tree = self.category_tree().await?;
        let row = self.new_product_row(input, &tree).await?;
        self.save(&row, None, &[]).await?;
        Ok(row)
    }

    /// A new product's row, checked against the rules and the category tree.
    async fn new_product_row(
        &self,
        input: NewProduct,
        tree: &HashMap<String, CategoryRow>,
    ) -> CatalogResult<ProductRow> {
        let name = product::parse_name(&input.name)?;
        let sku = product::parse_sku(&input.sku)?;
        let slug = product::parse_slug(input.slug.as_deref(), &name, &sku)?;
        let price = self.price(&input.price)?;
        if !tree.contains_key(&input.category_id) {
            return Err(CatalogError::UnknownCategory);
        }
        let now = now_millis();
        Ok(ProductRow {
            id: new_id("prod"),
            description: product::parse_description(&input.description)?,
            weight_grams: product::parse_weight(input.weight_grams)?,
            options: "[]".into(),
            attributes: to_json(&checked_attributes(
                tree,
                &input.category_id,
                input.attributes,
            )?),
            media: to_json(&media::parse_media_list(input.media, None)?),
            brand_id: self.existing_brand(input.brand_id).await?,
            category_id: input.category_id,
            price_minor: price.minor_units,
            currency: price.currency.as_str().into(),
            status: input.status.as_str().into(),
            meta_title: product::parse_meta_title(input.meta_title)?,
            meta_description: product::parse_meta_description(input.meta_description)?,
            tax_class: input.tax_class.as_str().into(),
            sku,
            slug,
            name,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn update_product(
        &self,
        id: &str,
        changes: ProductChanges,
    ) -> CatalogResult<ProductRow> {
        // What needs a lookup is checked first; the change itself is applied to a fresh read.
        let brand = match changes.brand_id {
            Some(brand) => Some(self.existing_brand(brand).await?),
            None => None,
        };
        let price = changes.price.as_ref().map(|p| self.price(p)).transpose()?;
        // Attributes are checked against the (new) category's definitions when either changes;
        // the tree read for that also finds the new category.
        let tree = match (&changes.attributes, &changes.category_id) {
            (None, None) => None,
            _ => Some(self.category_tree().await?),
        };
        let category = match (&changes.category_id, &tree) {
            (Some(category), Some(tree)) if tree.contains_key(category) => Some(category.clone()),
            (Some(_), _) => return Err(CatalogError::UnknownCategory),
            (None, _) => None,
        };
        let (row, _) = self
            .modify(id, |row, variants| {
                if let Some(name) = &changes.name {
                    row.name = product::parse_name(name)?;
                }
                if let Some(slug) = &changes.slug {
                    row.slug = product::parse_slug(Some(slug), &row.name, &row.sku)?;
                }
                if let Some(description) = &changes.description {
                    row.description = product::parse_description(description)?;
                }
                if let Some(brand) = &brand {
                    row.brand_id = brand.clone();
                }
                if let Some(category) = &category {
                    row.category_id = category.clone();
                }
                if let Some(price) = price {
                    row.price_minor = price.minor_units;
                    row.currency = price.currency.as_str().into();
                }
                if let Some(tree) = &tree {
                    let given = match &changes.attributes {
                        Some(attributes) => attributes.clone(),
                        None => serde_json::from_str(&row.attributes).map_err(|e| {
                            StoreError::Corrupt {
                                id: row.id.clone(),
                                what: format!("attributes: {e}"),
                            }
                        })?,
                    };
                    row.attributes = to_json(&checked_attributes(tree, &row.category_id, given)?);
                }
                if let Some(media) = &changes.media {
                    row.media = to_json(&media::parse_media_list(media.clone(), Some(variants))?);
                }
                if let Some(status) = changes.status {
                    row.status = status.as_str().into();
                }
                if let Some(weight) = changes.weight_grams {
                    row.weight_grams = product::parse_weight(weight)?;
                }
                if let Some(title) = &changes.meta_title {
                    row.meta_title = product::parse_meta_title(title.clone())?;
                }
                if let Some(description) = &changes.meta_description {
                    row.meta_description = product::parse_meta_description(description.clone())?;
                }
                if let Some(class) = changes.tax_class {
                    row.tax_class = class.as_str().into();
                }
                Ok(Vec::new())
            })
            .await?;
        Ok(row)
    }

    pub async fn archive_product(&self, id: &str) -> CatalogResult<ProductRow> {
        self.update_product(
            id,
            ProductChanges {
                status: Some(ProductStatus::Archived),
                ..Default::default()
            },
        )
        .await
    }

    pub async fn create_brand(&self, name: &str, slug: Option<&str>) -> CatalogResult<BrandRow> {
        let name = valid_name(name)?;
        let slug = valid_slug(slug, &name)?;
        let row = BrandRow {
            id: new_id("brand"),
            name,
            slug,
            created_at: now_millis(),
        };
        self.store.insert_brand(&row).await?;
        Ok(row)
    }

    pub async fn create_category(
        &self,
        name: &str,
        parent_id: Option<String>,
        slug: Option<&str>,
    ) -> CatalogResult<CategoryRow> {
        let name = valid_name(name)?;
        let slug = valid_slug(slug, &name)?;
        let parent_id = match parent_id {
            Some(parent) => Some(self.existing_category(&parent).await?),
            None => None,
        };
        let row = CategoryRow {
            id: new_id("cat"),
            parent_id,
            name,
            slug,
            attributes: Vec::new(),
            created_at: now_millis(),
        };
        self.store.insert_category(&row).await?;
        Ok(row)
    }

    /// Replaces the attributes a category defines for its products (and its subcategories'),
    /// then indexes those products again for their facets. Products keep the values they have;
    /// each is checked against the new definitions when it is next changed.
    pub async fn set_category_attributes(
        &self,
        category_id: &str,
        definitions: Vec<AttributeDefinition>,
    ) -> CatalogResult<CategoryRow> {
        // Checked against the tree as it is when saved (see the store): a definition of the
        // same name saved meanwhile on the path is seen, not overwritten.
        let mut checked: Option<(CategoryRow, Vec<String>)> = None;
        let definitions = self
            .store
            .define_category_attributes::<CatalogError>(category_id, |rows| {
                let tree = tree_of(rows.to_vec());
                let category = tree
                    .get(category_id)
                    .cloned()
                    .ok_or(CatalogError::UnknownCategory)?;
                let inherited = category
                    .parent_id
                    .as_deref()
                    .map(|parent| attribute_definitions(&tree, parent))
                    .unwrap_or_default();
                let subtree = category_subtree(&tree, category_id).unwrap_or_default();
                let below: Vec<AttributeDefinition> = subtree
                    .iter()
                    .filter(|id| *id != category_id)
                    .filter_map(|id| tree.get(id))
                    .flat_map(|c| c.attributes.iter().cloned())
                    .collect();
                let definitions = attributes::parse_definitions(definitions, &inherited, &below)?;
                checked = Some((category, subtree));
                Ok(definitions)
            })
            .await?;
        let (category, subtree) = checked.ok_or(CatalogError::UnknownCategory)?;
        if let Err(error) = self.indexer.index_categories(subtree).await {
            // The definitions are saved; the facets catch up with the next rebuild or change.
            tracing::error!(%error, category_id, "indexing a category's products again failed");
        }
        Ok(CategoryRow {
            attributes: definitions,
            ..category
        })
    }

    async fn category_tree(&self) -> CatalogResult<HashMap<String, CategoryRow>> {
        Ok(tree_of(self.store.categories().await?))
    }

    async fn existing_category(&self, id: &str) -> CatalogResult<String> {
        let categories = self.store.categories().await?;
        categories
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.id)
            .ok_or(CatalogError::UnknownCategory)
    }

    async fn existing_brand(&self, id: Option<String>) -> CatalogResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        match self.store.brands_by_ids(&[id]).await?.pop() {
            Some(brand) => Ok(Some(brand.id)),
            None => Err(CatalogError::UnknownBrand),
        }
    }
}

fn valid_name(name: &str) -> CatalogResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CatalogError::InvalidName);
    }
    Ok(name.into())
}

fn valid_slug(slug: Option<&str>, name: &str) -> CatalogResult<String> {
    match slug {
        Some(slug) if is_valid_slug(slug) => Ok(slug.into()),
        Some(_) => Err(ProductRuleError::InvalidSlug.into()),
        None => Ok(slugify(name)),
    }
}
