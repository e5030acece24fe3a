//! Admin management of API clients (partners and internal services): create, list, rotate the
//! secret, revoke. A secret is shown once, in the payload that made it.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::audit::Auditor;

use super::{payload, service, viewer, AccountUserError};
use crate::domain::clients::ClientKind;
use crate::store::ApiClientRow;

/// An API client (its secret is never shown again after it was made).
pub struct ApiClient(ApiClientRow);

#[Object]
impl ApiClient {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> ClientKind {
        self.0.kind
    }

    async fn scopes(&self) -> Vec<&str> {
        self.0.scopes.split_whitespace().collect()
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.0.created_at)
    }

    /// When it was revoked; it gets no tokens any more.
    async fn revoked_at(&self) -> Option<String> {
        self.0.revoked_at.map(primitives::time::format_millis)
    }
}

#[derive(InputObject)]
pub struct CreateApiClientInput {
    /// 1 to 64 letters, digits, dashes or underscores; unique.
    pub name: String,
    pub kind: ClientKind,
    /// Partners: `catalog:read`, `reviews:read`; services: `service`.
    pub scopes: Vec<String>,
}

/// A client with the secret just made for it: store it now, it is not shown again.
#[derive(SimpleObject, Default)]
pub struct ApiClientSecretPayload {
    pub client: Option<ApiClient>,
    pub client_secret: Option<String>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct ApiClientPayload {
    pub client: Option<ApiClient>,
    pub user_errors: Vec<AccountUserError>,
}

fn secret_payload(
    result: crate::service::AccountResult<(ApiClientRow, String)>,
) -> async_graphql::Result<ApiClientSecretPayload> {
    payload(result, |made, user_errors| {
        let (client, client_secret) = made.map(|(row, s)| (ApiClient(row), s)).unzip();
        ApiClientSecretPayload {
            client,
            client_secret,
            user_errors,
        }
    })
}

#[derive(Default)]
pub struct ApiClientQuery;

#[Object]
impl ApiClientQuery {
    /// Every API client, oldest first; admins only.
    #[graphql(requires_scopes = "api-clients:manage")]
    async fn api_clients(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiClient>> {
        viewer(ctx).require_permission(Permission::ApiClientsManage)?;
        let rows = service(ctx)
            .store
            .api_clients()
            .await
            .map_err(kit::ApiError::from)?;
        Ok(rows.into_iter().map(ApiClient).collect())
    }
}

#[derive(Default)]
pub struct ApiClientMutation;

#[Object]
impl ApiClientMutation {
    #[graphql(requires_scopes = "api-clients:manage")]
    async fn create_api_client(
        &self,
        ctx: &Context<'_>,
        input: CreateApiClientInput,
    ) -> async_graphql::Result<ApiClientSecretPayload> {
        let staff = Auditor::require(ctx, Permission::ApiClientsManage)?;
        secret_payload(
            service(ctx)
                .create_client(&staff, &input.name, input.kind, &input.scopes)
                .await,
        )
    }

    /// A new secret; the old one and every token issued with it stop working at once.
    #[graphql(requires_scopes = "api-clients:manage")]
    async fn rotate_api_client_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ApiClientSecretPayload> {
        let staff = Auditor::require(ctx, Permission::ApiClientsManage)?;
        secret_payload(service(ctx).rotate_client_secret(&staff, &id).await)
    }

    /// The client gets no more tokens and the ones it holds stop working at once.
    #[graphql(requires_scopes = "api-clients:manage")]
    async fn revoke_api_client(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ApiClientPayload> {
        let staff = Auditor::require(ctx, Permission::ApiClientsManage)?;
        payload(
            service(ctx).revoke_client(&staff, &id).await,
            |row, user_errors| ApiClientPayload {
                client: row.map(ApiClient),
                user_errors,
            },
        )
    }
}
