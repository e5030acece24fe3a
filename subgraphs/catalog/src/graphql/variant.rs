//! `ProductVariant`: what is sold, by id or SKU (the keys other subgraphs will hold), with its
//! option values, price and "was" price.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use commerce::money::MoneyObject;

use super::media::Media;
use super::product::{internal, load_by_id, Product};
use super::{VariantIdLoader, VariantSkuLoader};
use crate::domain::{self, OptionValue, ProductStatus};

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProductVariant {
    pub id: ID,
    pub sku: String,
    /// In the product's option order; empty for the default variant of a product without
    /// options.
    pub option_values: Vec<OptionValue>,
    /// Shipping weight in grams.
    pub weight_grams: Option<i64>,
    pub barcode: Option<String>,
    #[graphql(skip)]
    variant: domain::Variant,
}

impl From<domain::Variant> for ProductVariant {
    fn from(variant: domain::Variant) -> Self {
        Self {
            id: ID(variant.id.clone()),
            sku: variant.sku.clone(),
            option_values: variant.option_values.clone(),
            weight_grams: variant.weight_grams,
            barcode: variant.barcode.clone(),
            variant,
        }
    }
}

#[ComplexObject]
impl ProductVariant {
    async fn price(&self) -> MoneyObject {
        self.variant.price.into()
    }

    /// The "was" price, above `price`; null when there is none.
    async fn compare_at_price(&self) -> Option<MoneyObject> {
        self.variant.compare_at.map(Into::into)
    }

    async fn status(&self) -> ProductStatus {
        self.variant.status
    }

    /// The product's images that show this variant, in the product's order.
    async fn images(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Media>> {
        Ok(load_by_id(ctx, &self.variant.product_id)
            .await?
            .map(|product| {
                product
                    .media
                    .iter()
                    .filter(|m| m.variant_ids.contains(&self.variant.id))
                    .map(Media::from)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The product it is a variant of (also when that product is a draft or archived, so
    /// what was bought stays visible).
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Product> {
        load_by_id(ctx, &self.variant.product_id)
            .await?
            .map(Product::from)
            .ok_or_else(|| {
                kit::ApiError::internal(format!(
                    "variant {} has no product {}",
                    self.variant.id, self.variant.product_id
                ))
                .into()
            })
    }
}

#[derive(Default)]
pub struct VariantQuery;

#[Object]
impl VariantQuery {
    #[graphql(entity)]
    async fn find_product_variant_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ProductVariant>> {
        let loader = ctx.data_unchecked::<DataLoader<VariantIdLoader>>();
        Ok(loader
            .load_one(id.0)
            .await
            .map_err(internal)?
            .map(ProductVariant::from))
    }

    #[graphql(entity)]
    async fn find_product_variant_by_sku(
        &self,
        ctx: &Context<'_>,
        sku: String,
    ) -> async_graphql::Result<Option<ProductVariant>> {
        let loader = ctx.data_unchecked::<DataLoader<VariantSkuLoader>>();
        Ok(loader
            .load_one(sku)
            .await
            .map_err(internal)?
            .map(ProductVariant::from))
    }
}
