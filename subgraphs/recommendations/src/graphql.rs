//! The recommendations GraphQL API: `Product.alsoBought` and `recommendedForYou`.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID,
};
use kit::ApiError;

use crate::store::RecommendationStore;

pub type RecommendationsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The most recommendations one field gives.
const MAX_FIRST: i32 = 20;

fn limit(first: i32) -> Result<usize, ApiError> {
    if (0..=MAX_FIRST).contains(&first) {
        Ok(first as usize)
    } else {
        Err(ApiError::BadUserInput(format!(
            "`first` must be between 0 and {MAX_FIRST}"
        )))
    }
}

fn store<'a>(ctx: &Context<'a>) -> &'a Arc<RecommendationStore> {
    ctx.data_unchecked::<Arc<RecommendationStore>>()
}

fn products(ids: Vec<String>) -> Vec<Product> {
    ids.into_iter().map(|id| Product { id: ID(id) }).collect()
}

/// The catalog's product, by its key.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
}

#[ComplexObject]
impl Product {
    /// Customers who bought this also bought: the products most often in the same paid orders,
    /// for sale, never this one.
    async fn also_bought(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: i32,
    ) -> async_graphql::Result<Vec<Product>> {
        let ids = store(ctx)
            .also_bought(&self.id, limit(first)?)
            .await
            .map_err(ApiError::internal)?;
        Ok(products(ids))
    }
}

#[derive(Default)]
pub struct Query;

#[Object]
impl Query {
    /// For the signed-in customer: products often bought with what they bought, that they have
    /// not bought yet. Empty before their first paid order.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn recommended_for_you(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<Product>> {
        let customer = kit::access::viewer(ctx).require_user()?;
        let ids = store(ctx)
            .for_customer(customer, limit(first)?)
            .await
            .map_err(ApiError::internal)?;
        Ok(products(ids))
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }
}
