//! What checkout asks of accounts (a service call from orders): the customer's email and address
//! book. `@inaccessible`, so the router's API does not have it, and refused to callers without
//! the service scope.

use async_graphql::{Context, Object, SimpleObject, ID};
use kit::ApiError;

use super::user::Address;
use super::{service, viewer};

#[derive(SimpleObject, Clone, Debug)]
#[graphql(inaccessible)]
pub struct CheckoutCustomer {
    pub id: ID,
    pub email: String,
    pub addresses: Vec<Address>,
}

#[derive(Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// An active customer; null for an unknown or disabled account.
    #[graphql(inaccessible)]
    async fn checkout_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<CheckoutCustomer>> {
        viewer(ctx).require_service()?;
        let service = service(ctx);
        let Some(user) = service.user(&id).await.map_err(ApiError::internal)? else {
            return Ok(None);
        };
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        let addresses = service
            .store
            .addresses_of(std::slice::from_ref(&user.id))
            .await
            .map_err(ApiError::internal)?;
        Ok(Some(CheckoutCustomer {
            id: ID(user.id),
            email: user.email,
            addresses: addresses.into_iter().map(Address::from).collect(),
        }))
    }
}
