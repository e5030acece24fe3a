//! The catalog's object graph: the `Product` entity with its brand and category (a tree), which
//! lists its products in turn; `product(id | slug)` and the `products` connection.

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use commerce::money::{Money, MoneyObject};
use kit::pagination::{encode_cursor, Page, PageRequest};
use kit::ApiError;

use super::loaders::categories;
use super::media::Media;
use super::{service, viewer, BrandLoader, ProductIdLoader, ProductSkuLoader};
use crate::domain::attributes::AttributeDefinition;
use crate::domain::{self, Attribute, ProductStatus};
use crate::store::{BrandRow, CategoryRow, ProductCursor, ProductFilter, ProductOrder, ProductRow};
use crate::tree::{attribute_definitions, category_path, category_subtree};

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
    pub sku: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// Shipping weight in grams.
    pub weight_grams: Option<i64>,
    #[graphql(skip)]
    pub(crate) product: domain::Product,
}

impl From<domain::Product> for Product {
    fn from(product: domain::Product) -> Self {
        Self {
            id: ID(product.id.clone()),
            sku: product.sku.clone(),
            name: product.name.clone(),
            slug: product.slug.clone(),
            description: product.description.clone(),
            weight_grams: product.weight_grams,
            product,
        }
    }
}

impl TryFrom<ProductRow> for Product {
    type Error = ApiError;

    fn try_from(row: ProductRow) -> Result<Self, ApiError> {
        domain::Product::try_from(row)
            .map(Into::into)
            .map_err(ApiError::internal)
    }
}

pub(crate) fn internal(error: std::sync::Arc<crate::store::StoreError>) -> ApiError {
    ApiError::internal(error.as_ref())
}

#[ComplexObject]
impl Product {
    async fn price(&self) -> MoneyObject {
        self.product.price.into()
    }

    async fn status(&self) -> ProductStatus {
        self.product.status
    }

    async fn brand(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Brand>> {
        let Some(id) = &self.product.brand_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<BrandLoader>>();
        Ok(loader
            .load_one(id.clone())
            .await
            .map_err(internal)?
            .map(Brand::from))
    }

    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        let categories = categories(ctx).await?;
        Ok(categories
            .get(&self.product.category_id)
            .cloned()
            .map(Category::from))
    }

    /// What is sold, in order: one variant per combination of option values, or the default
    /// variant of a product without options. Archived variants are shown to admins only.
    async fn variants(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::variant::ProductVariant>> {
        let loader = ctx.data_unchecked::<DataLoader<super::VariantsOfProductLoader>>();
        let admin = viewer(ctx).has_permission(Permission::CatalogWrite);
        Ok(loader
            .load_one(self.product.id.clone())
            .await
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.status != ProductStatus::Archived || admin)
            .map(super::variant::ProductVariant::from)
            .collect())
    }

    /// The options its variants are made of, in display order; empty for a product sold as
    /// its default variant.
    async fn options(&self) -> Vec<domain::ProductOption> {
        self.product.options.clone()
    }

    /// The lowest and highest price of its variants on sale; null when none is.
    async fn price_range(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PriceRange>> {
        let loader = ctx.data_unchecked::<DataLoader<super::VariantsOfProductLoader>>();
        let variants = loader
            .load_one(self.product.id.clone())
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let prices = variants
            .iter()
            .filter(|v| v.status != ProductStatus::Archived)
            .map(|v| v.price);
        let min = prices.clone().min_by_key(|m| m.minor_units);
        let max = prices.max_by_key(|m| m.minor_units);
        Ok(min.zip(max).map(|(min, max)| PriceRange {
            min: min.into(),
            max: max.into(),
        }))
    }

    async fn attributes(&self) -> Vec<Attribute> {
        self.product.attributes.clone()
    }

    /// Its images in order, of the product as a whole and of its variants.
    async fn media(&self) -> Vec<Media> {
        self.product.media.iter().map(Media::from).collect()
    }

    /// What search engines and shared links show: the admin's meta title and description, else
    /// the name and the start of the description.
    async fn seo(&self) -> Seo {
        let product = &self.product;
        Seo {
            title: product
                .meta_title
                .clone()
                .unwrap_or_else(|| product.name.clone()),
            description: product
                .meta_description
                .clone()
                .unwrap_or_else(|| summary(&product.description, SEO_DESCRIPTION_CHARS)),
        }
    }

    /// The collections (published or not) that hold it, for the orders service's promotions:
    /// not in the router's API.
    #[graphql(inaccessible)]
    async fn collection_ids(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ID>> {
        let loader = ctx.data_unchecked::<DataLoader<super::loaders::CollectionsHoldingLoader>>();
        Ok(loader
            .load_one(self.product.id.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?
            .unwrap_or_default()
            .into_iter()
            .map(ID)
            .collect())
    }

    /// What its variants are taxed as (each destination's rate for the class applies).
    async fn tax_class(&self) -> commerce::tax::TaxClass {
        self.product.tax_class
    }

    /// The meta title an admin wrote, if any (`seo` falls back to the name).
    async fn meta_title(&self) -> Option<&str> {
        self.product.meta_title.as_deref()
    }

    /// The meta description an admin wrote, if any (`seo` falls back to the description).
    async fn meta_description(&self) -> Option<&str> {
        self.product.meta_description.as_deref()
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.product.created_at)
    }

    async fn updated_at(&self) -> String {
        primitives::time::format_millis(self.product.updated_at)
    }
}

/// A page's title and description for search engines and shared links.
#[derive(SimpleObject, Clone, Debug)]
pub struct Seo {
    pub title: String,
    pub description: String,
}

/// How much of a description search engines show.
const SEO_DESCRIPTION_CHARS: usize = 160;

/// The first `max` characters of `text`, cut at a word with an ellipsis when it is longer.
fn summary(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max - 1).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// The lowest and highest price of a product's variants.
#[derive(SimpleObject, Clone, Debug)]
pub struct PriceRange {
    pub min: MoneyObject,
    pub max: MoneyObject,
}

pub(crate) async fn load_by_id(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<Option<domain::Product>> {
    let loader = ctx.data_unchecked::<DataLoader<ProductIdLoader>>();
    Ok(loader.load_one(id.to_string()).await.map_err(internal)?)
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProductSort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
}

impl From<ProductSort> for ProductOrder {
    fn from(sort: ProductSort) -> Self {
        match sort {
            ProductSort::Newest => ProductOrder::Newest,
            ProductSort::PriceAsc => ProductOrder::PriceAscending,
            ProductSort::PriceDesc => ProductOrder::PriceDescending,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    /// Products in this category or any category below it.
    pub category_id: Option<ID>,
    /// Products of any of these brands.
    pub brand_ids: Option<Vec<ID>>,
    /// Decimal string, inclusive.
    pub min_price: Option<String>,
    /// Decimal string, inclusive.
    pub max_price: Option<String>,
    /// Admins only; everyone else sees active products.
    pub status: Option<ProductStatus>,
}

/// A price filter's bound, a decimal string in the shop's currency.
pub(crate) fn parse_price_bound(
    ctx: &Context<'_>,
    value: Option<&str>,
    name: &str,
) -> Result<Option<i64>, ApiError> {
    let currency = service(ctx).currency();
    value
        .map(|v| {
            Money::parse(v, currency)
                .map(|m| m.minor_units)
                .map_err(|e| ApiError::BadUserInput(format!("{name}: {e}")))
        })
        .transpose()
}

/// Extra connection fields: `totalCount` runs its query only when asked for.
pub struct ProductConnectionFields {
    filter: ProductFilter,
}

#[Object]
impl ProductConnectionFields {
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(service(ctx)
            .store
            .count_products(&self.filter)
            .await
            .map_err(ApiError::from)?)
    }
}

pub type ProductConnection = Connection<String, Product, ProductConnectionFields>;

/// Lists products through the store, keyset-paged.
pub(crate) async fn product_connection(
    ctx: &Context<'_>,
    filter: ProductFilter,
    sort: ProductSort,
    page: PageRequest<ProductCursor>,
) -> async_graphql::Result<ProductConnection> {
    let order = ProductOrder::from(sort);
    let rows = service(ctx)
        .store
        .list_products(&filter, order, &page)
        .await
        .map_err(ApiError::from)?;
    let page = Page::from_rows(&page, rows);
    let mut connection = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        ProductConnectionFields { filter },
    );
    for row in page.items {
        let cursor = ProductCursor {
            price: (order != ProductOrder::Newest).then_some(row.price_minor),
            id: row.id.clone(),
        };
        connection
            .edges
            .push(Edge::new(encode_cursor(&cursor), Product::try_from(row)?));
    }
    Ok(connection)
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    /// A product by id, by slug (its current one or an earlier one) or by SKU (its own or one
    /// of its variants'); exactly one of them.
    async fn product(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
        sku: Option<String>,
    ) -> async_graphql::Result<Option<Product>> {
        let product = match (id, slug, sku) {
            (Some(id), None, None) => load_by_id(ctx, &id).await?,
            (None, Some(slug), None) => service(ctx)
                .store
                .product_by_slug(&slug)
                .await
                .map_err(ApiError::from)?
                .map(domain::Product::try_from)
                .transpose()
                .map_err(ApiError::internal)?,
            (None, None, Some(sku)) => {
                // SKUs are stored upper case; every product's own SKU is its default variant's.
                let loader = ctx.data_unchecked::<DataLoader<super::VariantSkuLoader>>();
                match loader
                    .load_one(sku.trim().to_uppercase())
                    .await
                    .map_err(internal)?
                {
                    Some(variant) => load_by_id(ctx, &variant.product_id).await?,
                    None => None,
                }
            }
            _ => {
                return Err(ApiError::BadUserInput(
                    "pass exactly one of `id`, `slug` and `sku`".into(),
                )
                .into())
            }
        };
        let admin = viewer(ctx).has_permission(Permission::CatalogWrite);
        Ok(product
            .filter(|p| p.is_listed_for(admin))
            .map(Product::from))
    }

    /// Products, newest first unless sorted otherwise; at most 100 per page.
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProductFilterInput>,
        #[graphql(desc = "NEWEST when not given")] sort: Option<ProductSort>,
    ) -> async_graphql::Result<ProductConnection> {
        let sort = sort.unwrap_or_default();
        let page = PageRequest::<ProductCursor>::from_args(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let status = match filter.status {
            Some(status) if status != ProductStatus::Active => {
                viewer(ctx).require_permission(Permission::CatalogWrite)?;
                status
            }
            _ => ProductStatus::Active,
        };
        let category_ids = match &filter.category_id {
            Some(id) => category_subtree(categories(ctx).await?, id)
                .ok_or_else(|| ApiError::BadUserInput("unknown category".into()))?,
            None => Vec::new(),
        };
        let store_filter = ProductFilter {
            status: Some(status.as_str().into()),
            category_ids,
            brand_ids: filter
                .brand_ids
                .unwrap_or_default()
                .into_iter()
                .map(|id| id.0)
                .collect(),
            min_price_minor: parse_price_bound(ctx, filter.min_price.as_deref(), "minPrice")?,
            max_price_minor: parse_price_bound(ctx, filter.max_price.as_deref(), "maxPrice")?,
        };
        product_connection(ctx, store_filter, sort, page).await
    }

    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Product>> {
        Ok(load_by_id(ctx, &id).await?.map(Product::from))
    }

    #[graphql(entity)]
    async fn find_product_by_sku(
        &self,
        ctx: &Context<'_>,
        sku: String,
    ) -> async_graphql::Result<Option<Product>> {
        let loader = ctx.data_unchecked::<DataLoader<ProductSkuLoader>>();
        Ok(loader
            .load_one(sku)
            .await
            .map_err(internal)?
            .map(Product::from))
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Brand {
    pub id: ID,
    pub name: String,
    pub slug: String,
}

impl From<BrandRow> for Brand {
    fn from(row: BrandRow) -> Self {
        Self {
            id: ID(row.id),
            name: row.name,
            slug: row.slug,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Category {
    pub id: ID,
    pub name: String,
    pub slug: String,
    #[graphql(skip)]
    parent_id: Option<String>,
}

impl From<CategoryRow> for Category {
    fn from(row: CategoryRow) -> Self {
        Self {
            id: ID(row.id),
            name: row.name,
            slug: row.slug,
            parent_id: row.parent_id,
        }
    }
}

#[ComplexObject]
impl Category {
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        let Some(parent) = &self.parent_id else {
            return Ok(None);
        };
        Ok(categories(ctx)
            .await?
            .get(parent)
            .cloned()
            .map(Category::from))
    }

    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let mut children: Vec<CategoryRow> = categories(ctx)
            .await?
            .values()
            .filter(|c| c.parent_id.as_deref() == Some(self.id.as_str()))
            .cloned()
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(children.into_iter().map(Category::from).collect())
    }

    /// The attributes its products have: those of its parents, then its own.
    async fn attribute_definitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AttributeDefinition>> {
        Ok(attribute_definitions(categories(ctx).await?, &self.id))
    }

    /// Only the attributes it defines itself (what `setCategoryAttributes` replaces).
    async fn own_attribute_definitions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<AttributeDefinition>> {
        Ok(categories(ctx)
            .await?
            .get(self.id.as_str())
            .map(|c| c.attributes.clone())
            .unwrap_or_default())
    }

    /// From the root down to this category (breadcrumbs).
    async fn path(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let categories = categories(ctx).await?;
        Ok(category_path(categories, &self.id)
            .into_iter()
            .filter_map(|id| categories.get(&id).cloned())
            .map(Category::from)
            .collect())
    }

    /// Active products in this category and below, of any of `brandIds` and within the
    /// price bounds when given (a category page's filters).
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(desc = "NEWEST when not given")] sort: Option<ProductSort>,
        brand_ids: Option<Vec<ID>>,
        #[graphql(desc = "Decimal string, inclusive.")] min_price: Option<String>,
        #[graphql(desc = "Decimal string, inclusive.")] max_price: Option<String>,
    ) -> async_graphql::Result<ProductConnection> {
        let sort = sort.unwrap_or_default();
        let page = PageRequest::<ProductCursor>::from_args(first, after, None, None)?;
        let category_ids = category_subtree(categories(ctx).await?, &self.id).unwrap_or_default();
        let filter = ProductFilter {
            status: Some(ProductStatus::Active.as_str().into()),
            category_ids,
            brand_ids: brand_ids
                .unwrap_or_default()
                .into_iter()
                .map(|id| id.0)
                .collect(),
            min_price_minor: parse_price_bound(ctx, min_price.as_deref(), "minPrice")?,
            max_price_minor: parse_price_bound(ctx, max_price.as_deref(), "maxPrice")?,
        };
        product_connection(ctx, filter, sort, page).await
    }
}
