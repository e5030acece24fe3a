//! Dataloaders (every batch of keys is one database query) and the request's category tree.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::Context;
use kit::ApiError;

use crate::domain::{Product, Variant};
use crate::service::CatalogService;
use crate::store::{BrandRow, CategoryRow, ProductRow, StoreError, VariantRow};

pub struct ProductIdLoader(pub Arc<CatalogService>);
pub struct ProductSkuLoader(pub Arc<CatalogService>);
pub struct BrandLoader(pub Arc<CatalogService>);
/// A product's variants, in order, by product id.
pub struct VariantsOfProductLoader(pub Arc<CatalogService>);
pub struct VariantIdLoader(pub Arc<CatalogService>);
pub struct VariantSkuLoader(pub Arc<CatalogService>);
/// The ids of the collections holding a product, by product id.
pub struct CollectionsHoldingLoader(pub Arc<CatalogService>);

impl Loader<String> for CollectionsHoldingLoader {
    type Value = Vec<String>;
    type Error = Arc<crate::service::CatalogError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<String>>, Self::Error> {
        let holding = self.0.collections_holding(ids).await.map_err(Arc::new)?;
        Ok(holding.into_iter().collect())
    }
}

/// Rows parsed into products; one that does not parse fails the batch (an internal error).
fn parse(rows: Vec<ProductRow>) -> Result<Vec<Product>, Arc<StoreError>> {
    rows.into_iter()
        .map(Product::try_from)
        .collect::<Result<_, _>>()
        .map_err(Arc::new)
}

impl Loader<String> for ProductIdLoader {
    type Value = Product;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Product>, Self::Error> {
        let rows = self.0.store.products_by_ids(ids).await.map_err(Arc::new)?;
        Ok(parse(rows)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect())
    }
}

impl Loader<String> for ProductSkuLoader {
    type Value = Product;
    type Error = Arc<StoreError>;

    async fn load(&self, skus: &[String]) -> Result<HashMap<String, Product>, Self::Error> {
        let rows = self
            .0
            .store
            .products_by_skus(skus)
            .await
            .map_err(Arc::new)?;
        Ok(parse(rows)?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect())
    }
}

impl Loader<String> for BrandLoader {
    type Value = BrandRow;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, BrandRow>, Self::Error> {
        let rows = self.0.store.brands_by_ids(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

fn parse_variants(rows: Vec<VariantRow>) -> Result<Vec<Variant>, Arc<StoreError>> {
    rows.into_iter()
        .map(Variant::try_from)
        .collect::<Result<_, _>>()
        .map_err(Arc::new)
}

impl Loader<String> for VariantsOfProductLoader {
    type Value = Vec<Variant>;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<Variant>>, Self::Error> {
        let rows = self
            .0
            .store
            .variants_of_products(ids)
            .await
            .map_err(Arc::new)?;
        let mut by_product: HashMap<String, Vec<Variant>> = HashMap::new();
        for variant in parse_variants(rows)? {
            by_product
                .entry(variant.product_id.clone())
                .or_default()
                .push(variant);
        }
        Ok(by_product)
    }
}

impl Loader<String> for VariantIdLoader {
    type Value = Variant;
    type Error = Arc<StoreError>;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Variant>, Self::Error> {
        let rows = self.0.store.variants_by_ids(ids).await.map_err(Arc::new)?;
        Ok(parse_variants(rows)?
            .into_iter()
            .map(|v| (v.id.clone(), v))
            .collect())
    }
}

impl Loader<String> for VariantSkuLoader {
    type Value = Variant;
    type Error = Arc<StoreError>;

    async fn load(&self, skus: &[String]) -> Result<HashMap<String, Variant>, Self::Error> {
        let rows = self
            .0
            .store
            .variants_by_skus(skus)
            .await
            .map_err(Arc::new)?;
        Ok(parse_variants(rows)?
            .into_iter()
            .map(|v| (v.sku.clone(), v))
            .collect())
    }
}

/// The category tree, read at most once per request: category fields and products' categories
/// all answer from it, and categories are few.
#[derive(Default)]
pub struct RequestCategories(tokio::sync::OnceCell<HashMap<String, CategoryRow>>);

pub(crate) async fn categories<'a>(
    ctx: &Context<'a>,
) -> Result<&'a HashMap<String, CategoryRow>, ApiError> {
    let cell = &ctx.data_unchecked::<RequestCategories>().0;
    let service = ctx.data_unchecked::<Arc<CatalogService>>();
    cell.get_or_try_init(|| async {
        let rows = service.store.categories().await?;
        Ok::<_, StoreError>(rows.into_iter().map(|c| (c.id.clone(), c)).collect())
    })
    .await
    .map_err(ApiError::from)
}
