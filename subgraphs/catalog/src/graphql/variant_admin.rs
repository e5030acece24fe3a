//! Staff mutations for options and variants. All require `catalog:write`; expected failures
//! (duplicate SKU or option values, a value the product does not have, a "was" price below the
//! price) are userErrors.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use auth::Permission;
use commerce::money::MoneyInput;

use super::admin::{maybe, ProductPayload};
use super::product::Product;
use super::variant::ProductVariant;
use super::{payload, service, viewer, CatalogUserError};
use crate::domain::{self, OptionValue, ProductOption, ProductStatus};
use crate::service::{CatalogResult, NewVariant, VariantChanges};
use crate::store::{ProductRow, VariantRow};

#[derive(InputObject)]
pub struct SetProductOptionsInput {
    pub product_id: ID,
    /// The product's options in display order, each with its values in order. Values sold by a
    /// variant that is not archived must stay; options cannot be added while such variants
    /// exist.
    pub options: Vec<ProductOption>,
}

#[derive(InputObject)]
pub struct ProductVariantInput {
    pub sku: String,
    /// One value of every option of the product.
    pub option_values: Vec<OptionValue>,
    pub price: MoneyInput,
    /// The "was" price, above `price`.
    pub compare_at_price: Option<MoneyInput>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// ACTIVE unless given.
    pub status: Option<ProductStatus>,
}

#[derive(InputObject)]
pub struct CreateProductVariantsInput {
    pub product_id: ID,
    /// 1 to 100 variants, created all or none.
    pub variants: Vec<ProductVariantInput>,
}

/// Fields left out keep their value; `compareAtPrice`, `weightGrams` and `barcode` set to null
/// clear them. The default variant of a product without options follows the product: its SKU,
/// price, weight and status change the product's.
#[derive(InputObject)]
pub struct UpdateProductVariantInput {
    pub id: ID,
    pub sku: Option<String>,
    pub option_values: Option<Vec<OptionValue>>,
    pub price: Option<MoneyInput>,
    pub compare_at_price: MaybeUndefined<MoneyInput>,
    pub weight_grams: MaybeUndefined<i32>,
    pub barcode: MaybeUndefined<String>,
    pub status: Option<ProductStatus>,
}

#[derive(InputObject)]
pub struct ArchiveProductVariantInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct ReorderProductVariantsInput {
    pub product_id: ID,
    /// Every variant of the product that is not archived, each once, in the new order.
    pub variant_ids: Vec<ID>,
}

#[derive(SimpleObject, Default)]
pub struct ProductVariantsPayload {
    pub product: Option<Product>,
    /// The variants made, in order.
    pub variants: Vec<ProductVariant>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(SimpleObject, Default)]
pub struct ProductVariantPayload {
    pub variant: Option<ProductVariant>,
    pub user_errors: Vec<CatalogUserError>,
}

fn variant(row: VariantRow) -> async_graphql::Result<ProductVariant> {
    Ok(domain::Variant::try_from(row)
        .map_err(kit::ApiError::internal)?
        .into())
}

fn product_payload(result: CatalogResult<ProductRow>) -> async_graphql::Result<ProductPayload> {
    super::admin::product_payload(result)
}

#[derive(Default)]
pub struct VariantAdminMutation;

#[Object]
impl VariantAdminMutation {
    #[graphql(requires_scopes = "catalog:write")]
    async fn set_product_options(
        &self,
        ctx: &Context<'_>,
        input: SetProductOptionsInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        product_payload(
            service(ctx)
                .set_options(&input.product_id, input.options)
                .await,
        )
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn create_product_variants(
        &self,
        ctx: &Context<'_>,
        input: CreateProductVariantsInput,
    ) -> async_graphql::Result<ProductVariantsPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let new = input
            .variants
            .into_iter()
            .map(|v| NewVariant {
                sku: v.sku,
                option_values: v.option_values,
                price: v.price,
                compare_at: v.compare_at_price,
                weight_grams: v.weight_grams,
                barcode: v.barcode,
                status: v.status.unwrap_or(ProductStatus::Active),
            })
            .collect();
        let result = service(ctx).create_variants(&input.product_id, new).await;
        let result = match result {
            Ok((row, made)) => Ok((
                Product::try_from(row)?,
                made.into_iter()
                    .map(variant)
                    .collect::<async_graphql::Result<_>>()?,
            )),
            Err(error) => Err(error),
        };
        payload(result, |made, user_errors| {
            let (product, variants) = made.map_or((None, Vec::new()), |(p, v)| (Some(p), v));
            ProductVariantsPayload {
                product,
                variants,
                user_errors,
            }
        })
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn update_product_variant(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductVariantInput,
    ) -> async_graphql::Result<ProductVariantPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let changes = VariantChanges {
            sku: input.sku,
            option_values: input.option_values,
            price: input.price,
            compare_at: maybe(input.compare_at_price, |m| m),
            weight_grams: maybe(input.weight_grams, |w| w),
            barcode: maybe(input.barcode, |b| b),
            status: input.status,
        };
        variant_payload(service(ctx).update_variant(&input.id, changes).await)
    }

    /// Takes a variant off sale; carts and orders keep showing it. Archiving the default variant
    /// of a product without options archives the product.
    #[graphql(requires_scopes = "catalog:write")]
    async fn archive_product_variant(
        &self,
        ctx: &Context<'_>,
        input: ArchiveProductVariantInput,
    ) -> async_graphql::Result<ProductVariantPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let changes = VariantChanges {
            status: Some(ProductStatus::Archived),
            ..Default::default()
        };
        variant_payload(service(ctx).update_variant(&input.id, changes).await)
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn reorder_product_variants(
        &self,
        ctx: &Context<'_>,
        input: ReorderProductVariantsInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let order = input.variant_ids.into_iter().map(|id| id.0).collect();
        product_payload(
            service(ctx)
                .reorder_variants(&input.product_id, order)
                .await,
        )
    }
}

fn variant_payload(
    result: CatalogResult<(ProductRow, VariantRow)>,
) -> async_graphql::Result<ProductVariantPayload> {
    let result = match result {
        Ok((_, row)) => Ok(variant(row)?),
        Err(error) => Err(error),
    };
    payload(result, |variant, user_errors| ProductVariantPayload {
        variant,
        user_errors,
    })
}
