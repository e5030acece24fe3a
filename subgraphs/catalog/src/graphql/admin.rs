//! Staff mutations: products, brands, categories. All require `catalog:write`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use auth::Permission;
use commerce::money::MoneyInput;
use commerce::tax::TaxClass;

use super::media::MediaInput;
use super::product::Product;
use super::product::{Brand, Category};
use super::{payload, service, viewer, CatalogUserError};
use crate::domain::attributes::AttributeDefinition;
use crate::domain::{Attribute, ProductStatus};
use crate::service::{CatalogResult, NewProduct, ProductChanges};
use crate::store::ProductRow;

#[derive(InputObject)]
pub struct CreateProductInput {
    pub sku: String,
    pub name: String,
    /// Made from the name and SKU when not given.
    pub slug: Option<String>,
    #[graphql(default)]
    pub description: String,
    pub brand_id: Option<ID>,
    pub category_id: ID,
    pub price: MoneyInput,
    #[graphql(default)]
    pub attributes: Vec<Attribute>,
    #[graphql(default)]
    pub media: Vec<MediaInput>,
    /// DRAFT unless given.
    pub status: Option<ProductStatus>,
    pub weight_grams: Option<i32>,
    /// What search engines and shared links show (at most 200 characters); the name when not
    /// given.
    pub meta_title: Option<String>,
    /// At most 500 characters; the description when not given.
    pub meta_description: Option<String>,
    /// What its variants are taxed as; STANDARD unless given.
    pub tax_class: Option<TaxClass>,
}

/// Fields left out keep their value; `brandId: null` and `weightGrams: null` clear them.
#[derive(InputObject)]
pub struct UpdateProductInput {
    pub id: ID,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub brand_id: MaybeUndefined<ID>,
    pub category_id: Option<ID>,
    pub price: Option<MoneyInput>,
    pub attributes: Option<Vec<Attribute>>,
    pub media: Option<Vec<MediaInput>>,
    pub status: Option<ProductStatus>,
    pub weight_grams: MaybeUndefined<i32>,
    /// `null` (or blank) goes back to the name.
    pub meta_title: MaybeUndefined<String>,
    /// `null` (or blank) goes back to the description.
    pub meta_description: MaybeUndefined<String>,
    pub tax_class: Option<TaxClass>,
}

#[derive(InputObject)]
pub struct ArchiveProductInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateBrandInput {
    pub name: String,
    pub slug: Option<String>,
}

#[derive(InputObject)]
pub struct CreateCategoryInput {
    pub name: String,
    pub slug: Option<String>,
    /// Top-level when not given.
    pub parent_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SetCategoryAttributesInput {
    pub category_id: ID,
    /// The category's own attributes, in order (its subcategories inherit them); replaces
    /// those it had.
    pub attributes: Vec<AttributeDefinition>,
}

#[derive(SimpleObject, Default)]
pub struct ProductPayload {
    pub product: Option<Product>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(SimpleObject, Default)]
pub struct BrandPayload {
    pub brand: Option<Brand>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(SimpleObject, Default)]
pub struct CategoryPayload {
    pub category: Option<Category>,
    pub user_errors: Vec<CatalogUserError>,
}

pub(super) fn product_payload(
    result: CatalogResult<ProductRow>,
) -> async_graphql::Result<ProductPayload> {
    let result = match result {
        Ok(row) => Ok(Product::try_from(row)?),
        Err(error) => Err(error),
    };
    payload(result, |product, user_errors| ProductPayload {
        product,
        user_errors,
    })
}

pub(super) fn maybe<T, U>(value: MaybeUndefined<T>, map: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(map(v))),
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    #[graphql(requires_scopes = "catalog:write")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let new = NewProduct {
            sku: input.sku,
            name: input.name,
            slug: input.slug,
            description: input.description,
            brand_id: input.brand_id.map(|id| id.0),
            category_id: input.category_id.0,
            price: input.price,
            attributes: input.attributes,
            media: input.media.into_iter().map(Into::into).collect(),
            status: input.status.unwrap_or(ProductStatus::Draft),
            weight_grams: input.weight_grams,
            meta_title: input.meta_title,
            meta_description: input.meta_description,
            tax_class: input.tax_class.unwrap_or_default(),
        };
        product_payload(service(ctx).create_product(new).await)
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let changes = ProductChanges {
            name: input.name,
            slug: input.slug,
            description: input.description,
            brand_id: maybe(input.brand_id, |id| id.0),
            category_id: input.category_id.map(|id| id.0),
            price: input.price,
            attributes: input.attributes,
            media: input
                .media
                .map(|list| list.into_iter().map(Into::into).collect()),
            status: input.status,
            weight_grams: maybe(input.weight_grams, |w| w),
            meta_title: maybe(input.meta_title, |t| t),
            meta_description: maybe(input.meta_description, |d| d),
            tax_class: input.tax_class,
        };
        product_payload(service(ctx).update_product(&input.id, changes).await)
    }

    /// Hides a product from the storefront and search; orders keep referring to it.
    #[graphql(requires_scopes = "catalog:write")]
    async fn archive_product(
        &self,
        ctx: &Context<'_>,
        input: ArchiveProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        product_payload(service(ctx).archive_product(&input.id).await)
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn create_brand(
        &self,
        ctx: &Context<'_>,
        input: CreateBrandInput,
    ) -> async_graphql::Result<BrandPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        payload(
            service(ctx)
                .create_brand(&input.name, input.slug.as_deref())
                .await,
            |row, user_errors| BrandPayload {
                brand: row.map(Into::into),
                user_errors,
            },
        )
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        input: CreateCategoryInput,
    ) -> async_graphql::Result<CategoryPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let parent = input.parent_id.map(|id| id.0);
        payload(
            service(ctx)
                .create_category(&input.name, parent, input.slug.as_deref())
                .await,
            |row, user_errors| CategoryPayload {
                category: row.map(Into::into),
                user_errors,
            },
        )
    }

    /// Defines the attributes of a category's products (a product type): each product's
    /// values are checked against them when it is written; choices and yes/no attributes
    /// become search facets.
    #[graphql(requires_scopes = "catalog:write")]
    async fn set_category_attributes(
        &self,
        ctx: &Context<'_>,
        input: SetCategoryAttributesInput,
    ) -> async_graphql::Result<CategoryPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        payload(
            service(ctx)
                .set_category_attributes(&input.category_id, input.attributes)
                .await,
            |row, user_errors| CategoryPayload {
                category: row.map(Into::into),
                user_errors,
            },
        )
    }
}
