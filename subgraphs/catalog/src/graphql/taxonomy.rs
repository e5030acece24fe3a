//! The taxonomy's entry points: the category tree's roots, a category, the brands.

use async_graphql::{Context, Object, ID};
use kit::ApiError;

use super::loaders::categories;
use super::product::{Brand, Category};
use super::service;
use crate::store::CategoryRow;

#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// The top-level categories; walk down with `children`.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let mut roots: Vec<CategoryRow> = categories(ctx)
            .await?
            .values()
            .filter(|c| c.parent_id.is_none())
            .cloned()
            .collect();
        roots.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(roots.into_iter().map(Category::from).collect())
    }

    /// A category by id or by slug (exactly one of them).
    async fn category(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Category>> {
        let categories = categories(ctx).await?;
        let found = match (id, slug) {
            (Some(id), None) => categories.get(id.as_str()).cloned(),
            (None, Some(slug)) => categories.values().find(|c| c.slug == slug).cloned(),
            _ => {
                return Err(
                    ApiError::BadUserInput("pass exactly one of `id` and `slug`".into()).into(),
                )
            }
        };
        Ok(found.map(Category::from))
    }

    /// Every brand, by name.
    async fn brands(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Brand>> {
        let brands = service(ctx).store.brands().await.map_err(ApiError::from)?;
        Ok(brands.into_iter().map(Brand::from).collect())
    }
}
