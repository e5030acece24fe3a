//! `Collection`: the published ones for everyone (the home page, partners' feeds), drafts for
//! admins, each with its products; and the admin mutations that make, replace and delete one.

use async_graphql::connection::{Connection, ConnectionNameType, EmptyFields};
use async_graphql::{Context, InputObject, Object, OutputType, SimpleObject, ID};
use auth::Permission;
use commerce::money::MoneyInput;
use kit::ApiError;

use super::product::Product;
use super::search::{listed_edges, offset_page};
use super::{payload, service, viewer, CatalogUserError};
use crate::domain::collection::CollectionSort;
use crate::domain::collection::{Collection as DomainCollection, CollectionFilter, CollectionRule};
use crate::domain::{Attribute, OptionValue};
use crate::search::option_facet;
use crate::service::{CatalogError, CollectionInput};

pub struct Collection(DomainCollection);

/// Which products a rule-based collection holds (all given parts must match).
#[derive(SimpleObject, Clone, Debug)]
pub struct CollectionRuleFilter {
    pub category_id: Option<ID>,
    pub brand_ids: Vec<ID>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub attribute_values: Vec<Attribute>,
    pub option_values: Vec<OptionValue>,
}

fn facet_pairs(keys: &[String]) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|k| k.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[Object]
impl Collection {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn sort(&self) -> CollectionSort {
        self.0.sort
    }

    async fn published(&self) -> bool {
        self.0.published
    }

    async fn position(&self) -> i64 {
        self.0.position
    }

    /// True for hand-picked products, false for a rule.
    async fn hand_picked(&self) -> bool {
        matches!(self.0.rule, CollectionRule::Products(_))
    }

    /// The rule of a rule-based collection.
    async fn filter(&self, ctx: &Context<'_>) -> Option<CollectionRuleFilter> {
        let CollectionRule::Filter(filter) = &self.0.rule else {
            return None;
        };
        let currency = service(ctx).currency();
        let money = |minor: i64| {
            commerce::money::Money {
                minor_units: minor,
                currency,
            }
            .amount()
        };
        Some(CollectionRuleFilter {
            category_id: filter.category_id.clone().map(ID),
            brand_ids: filter.brand_ids.iter().cloned().map(ID).collect(),
            min_price: filter.min_price_minor.map(money),
            max_price: filter.max_price_minor.map(money),
            attribute_values: facet_pairs(&filter.attribute_values)
                .into_iter()
                .map(|(name, value)| Attribute { name, value })
                .collect(),
            option_values: facet_pairs(&filter.option_values)
                .into_iter()
                .map(|(name, value)| OptionValue { name, value })
                .collect(),
        })
    }

    /// Its active products in its order; pages with `first`/`after` (at most 100, up to 10,000
    /// deep).
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CollectionProductConnection> {
        let (offset, limit) = offset_page(first, after)?;
        let (ids, total) = service(ctx)
            .collection_products(&self.0, offset, limit)
            .await
            .map_err(ApiError::internal)?;
        let has_next = offset + ids.len() < total as usize;
        let mut connection = Connection::with_additional_fields(
            offset > 0,
            has_next,
            CollectionProductsFields { total },
        );
        connection
            .edges
            .extend(listed_edges(ctx, &ids, offset).await?);
        Ok(connection)
    }
}

pub struct CollectionProductsFields {
    total: u64,
}

pub struct CollectionProductConnectionName;

impl ConnectionNameType for CollectionProductConnectionName {
    fn type_name<T: OutputType>() -> String {
        "CollectionProductConnection".into()
    }
}

pub type CollectionProductConnection = Connection<
    String,
    Product,
    CollectionProductsFields,
    EmptyFields,
    CollectionProductConnectionName,
>;

#[Object]
impl CollectionProductsFields {
    async fn total_count(&self) -> i64 {
        self.total as i64
    }
}

#[derive(Default)]
pub struct CollectionQuery;

#[Object]
impl CollectionQuery {
    /// Published collections in the home page's order (admins also see drafts).
    async fn collections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Collection>> {
        let admin = viewer(ctx).has_permission(Permission::CatalogWrite);
        let limit = first.unwrap_or(50).clamp(0, 100) as usize;
        Ok(service(ctx)
            .collections()
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .filter(|c| c.published || admin)
            .take(limit)
            .map(Collection)
            .collect())
    }

    /// A collection by slug or id (a draft only for admins).
    async fn collection(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Collection>> {
        let admin = viewer(ctx).has_permission(Permission::CatalogWrite);
        Ok(service(ctx)
            .collections()
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .find(|c| {
                id.as_deref().is_some_and(|id| c.id == *id)
                    || slug.as_deref().is_some_and(|slug| c.slug == slug)
            })
            .filter(|c| c.published || admin)
            .map(Collection))
    }
}

/// A rule: products matching all the given parts.
#[derive(InputObject, Default)]
pub struct CollectionFilterInput {
    pub category_id: Option<ID>,
    #[graphql(default)]
    pub brand_ids: Vec<ID>,
    pub min_price: Option<MoneyInput>,
    pub max_price: Option<MoneyInput>,
    #[graphql(default)]
    pub attribute_values: Vec<Attribute>,
    #[graphql(default)]
    pub option_values: Vec<OptionValue>,
}

#[derive(InputObject)]
pub struct CollectionInputFields {
    pub title: String,
    /// Made from the title when not given.
    pub slug: Option<String>,
    #[graphql(default)]
    pub description: String,
    /// Hand-picked products by SKU (a product's, or one of its variants'), in order; give
    /// this or `filter`.
    pub product_skus: Option<Vec<String>>,
    pub filter: Option<CollectionFilterInput>,
    /// MANUAL (the picks' order) for hand-picked collections, NEWEST otherwise, unless given.
    pub sort: Option<CollectionSort>,
    #[graphql(default)]
    pub published: bool,
    /// The home page's order; after the others when not given.
    pub position: Option<i64>,
}

#[derive(InputObject)]
pub struct UpdateCollectionInput {
    pub id: ID,
    /// Replaces the whole collection.
    pub collection: CollectionInputFields,
}

#[derive(InputObject)]
pub struct DeleteCollectionInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct CollectionPayload {
    pub collection: Option<Collection>,
    pub user_errors: Vec<CatalogUserError>,
}

#[derive(SimpleObject, Default)]
pub struct DeleteCollectionPayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<CatalogUserError>,
}

/// An admin's input as the service takes it: prices in the shop's currency, facet keys.
fn input_of(
    ctx: &Context<'_>,
    fields: CollectionInputFields,
) -> Result<CollectionInput, CatalogError> {
    let service = service(ctx);
    let price = |money: Option<MoneyInput>| -> Result<Option<i64>, CatalogError> {
        money
            .map(|m| service.price(&m).map(|p| p.minor_units))
            .transpose()
    };
    let filter = match fields.filter {
        Some(filter) => Some(CollectionFilter {
            category_id: filter.category_id.map(|id| id.0),
            brand_ids: filter.brand_ids.into_iter().map(|id| id.0).collect(),
            min_price_minor: price(filter.min_price)?,
            max_price_minor: price(filter.max_price)?,
            attribute_values: filter
                .attribute_values
                .iter()
                .map(|a| option_facet(a.name.trim(), a.value.trim()))
                .collect(),
            option_values: filter
                .option_values
                .iter()
                .map(|o| option_facet(o.name.trim(), o.value.trim()))
                .collect(),
        }),
        None => None,
    };
    let default_sort = if fields.product_skus.is_some() {
        CollectionSort::Manual
    } else {
        CollectionSort::Newest
    };
    Ok(CollectionInput {
        title: fields.title,
        slug: fields.slug,
        description: fields.description,
        product_skus: fields.product_skus,
        filter,
        sort: fields.sort.unwrap_or(default_sort),
        published: fields.published,
        position: fields.position,
    })
}

fn collection_payload(
    result: Result<DomainCollection, CatalogError>,
) -> async_graphql::Result<CollectionPayload> {
    payload(result, |collection, user_errors| CollectionPayload {
        collection: collection.map(Collection),
        user_errors,
    })
}

#[derive(Default)]
pub struct CollectionMutation;

#[Object]
impl CollectionMutation {
    #[graphql(requires_scopes = "catalog:write")]
    async fn create_collection(
        &self,
        ctx: &Context<'_>,
        input: CollectionInputFields,
    ) -> async_graphql::Result<CollectionPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let result = match input_of(ctx, input) {
            Ok(input) => service(ctx).create_collection(input).await,
            Err(error) => Err(error),
        };
        collection_payload(result)
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn update_collection(
        &self,
        ctx: &Context<'_>,
        input: UpdateCollectionInput,
    ) -> async_graphql::Result<CollectionPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let result = match input_of(ctx, input.collection) {
            Ok(fields) => service(ctx).update_collection(&input.id, fields).await,
            Err(error) => Err(error),
        };
        collection_payload(result)
    }

    #[graphql(requires_scopes = "catalog:write")]
    async fn delete_collection(
        &self,
        ctx: &Context<'_>,
        input: DeleteCollectionInput,
    ) -> async_graphql::Result<DeleteCollectionPayload> {
        viewer(ctx).require_permission(Permission::CatalogWrite)?;
        let result = service(ctx)
            .delete_collection(&input.id)
            .await
            .map(|()| input.id);
        payload(result, |deleted_id, user_errors| DeleteCollectionPayload {
            deleted_id,
            user_errors,
        })
    }
}
