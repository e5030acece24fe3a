//! Categories (a tree) and brands.

use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use kit::pagination::PageRequest;
use kit::ApiError;

use super::loaders::categories;
use super::product::{product_connection, ProductConnection, ProductSort};
use super::service;
use crate::domain::ProductStatus;
use crate::store::{BrandRow, CategoryRow, ProductCursor, ProductFilter};
use crate::tree::{category_path, category_subtree};

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

    /// From the root down to this category (breadcrumbs).
    async fn path(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let categories = categories(ctx).await?;
        Ok(category_path(categories, &self.id)
            .into_iter()
            .filter_map(|id| categories.get(&id).cloned())
            .map(Category::from)
            .collect())
    }

    /// Active products in this category and below.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(desc = "NEWEST when not given")] sort: Option<ProductSort>,
    ) -> async_graphql::Result<ProductConnection> {
        let sort = sort.unwrap_or_default();
        let page = PageRequest::<ProductCursor>::from_args(first, after, None, None)?;
        let category_ids = category_subtree(categories(ctx).await?, &self.id).unwrap_or_default();
        let filter = ProductFilter {
            status: Some(ProductStatus::Active.as_str().into()),
            category_ids,
            ..Default::default()
        };
        product_connection(ctx, filter, sort, page).await
    }
}

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
