//! The `User` entity, `me`, profile and address-book mutations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::ApiError;

use super::staff::{permission_values, PermissionValue, StaffRole};
use super::{payload, service, viewer, AccountUserError};
use crate::domain::Role;
use crate::service::AccountsService;
use crate::store::{AddressRow, UserRow};
use commerce::address::AddressInput;

/// A sign-in of the user that can still go on.
#[derive(SimpleObject, Clone, Debug)]
pub struct Session {
    pub id: ID,
    pub started_at: String,
    /// The latest token refresh (or the sign-in).
    pub last_used_at: String,
    /// The session of the request's token.
    pub current: bool,
}

#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    pub id: ID,
    pub name: String,
    #[graphql(skip)]
    row: UserRow,
    /// Set for the user of a session just started (register, login, refresh): that request has
    /// no token yet but is the owner.
    #[graphql(skip)]
    session_owner: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: ID(row.id.clone()),
            name: row.name.clone(),
            row,
            session_owner: false,
        }
    }
}

impl User {
    pub fn session_owner(row: UserRow) -> Self {
        Self {
            session_owner: true,
            ..Self::from(row)
        }
    }

    fn require_owner_or_admin(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        self.require_owner_or(ctx, Permission::CustomersRead)
    }

    /// The user themself (or the owner of a session just started), or staff with `permission`.
    fn require_owner_or(&self, ctx: &Context<'_>, permission: Permission) -> Result<(), ApiError> {
        if self.session_owner {
            return Ok(());
        }
        viewer(ctx).require_self_or(&self.row.id, permission)
    }
}

#[ComplexObject]
impl User {
    /// Visible to the user and to staff with `customers:read`.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        self.require_owner_or_admin(ctx)?;
        Ok(self.row.email.clone())
    }

    /// Customer, and staff for a user holding a staff role; visible to the user and to staff
    /// with `customers:read`.
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Role>> {
        self.require_owner_or_admin(ctx)?;
        let grants = service(ctx)
            .grants(&self.row)
            .await
            .map_err(ApiError::internal)?;
        Ok(grants.roles)
    }

    /// The staff roles the user holds; visible to the user and to staff with `staff:manage`.
    async fn staff_roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StaffRole>> {
        self.require_owner_or(ctx, Permission::StaffManage)?;
        let roles = service(ctx)
            .store
            .staff_roles_of(&self.row.id)
            .await
            .map_err(ApiError::from)?;
        Ok(roles.into_iter().map(StaffRole::from).collect())
    }

    /// What the user's staff roles grant together (what their next token's scopes hold);
    /// visible to the user and to staff with `staff:manage`.
    async fn permissions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PermissionValue>> {
        self.require_owner_or(ctx, Permission::StaffManage)?;
        let permissions = service(ctx)
            .store
            .permissions_of(&self.row.id)
            .await
            .map_err(ApiError::from)?;
        Ok(permission_values(&permissions))
    }

    /// The address book; visible to the user and to staff with `customers:read`.
    async fn addresses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Address>> {
        self.require_owner_or_admin(ctx)?;
        let loader = ctx.data_unchecked::<DataLoader<AddressLoader>>();
        let rows = loader
            .load_one(self.row.id.clone())
            .await
            .map_err(|e| ApiError::internal(e.as_ref()))?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Address::from)
            .collect())
    }

    /// Where the user is signed in (each sign-in that can still go on), the latest used first;
    /// visible to the user only.
    async fn sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Session>> {
        let viewer = viewer(ctx);
        if viewer.require_user()? != self.row.id {
            return Err(ApiError::Forbidden.into());
        }
        let current = viewer.session_id();
        let rows = service(ctx)
            .sessions(&self.row.id)
            .await
            .map_err(ApiError::internal)?;
        Ok(rows
            .into_iter()
            .map(|row| Session {
                current: current == Some(row.id.as_str()),
                id: ID(row.id),
                started_at: primitives::time::format_millis(row.started_at),
                last_used_at: primitives::time::format_millis(row.last_used_at),
            })
            .collect())
    }

    /// Whether the account's address is confirmed; visible to the user and to staff with
    /// `customers:read`.
    async fn email_verified(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        self.require_owner_or_admin(ctx)?;
        Ok(service(ctx)
            .store
            .email_verified(&self.row.id)
            .await
            .map_err(ApiError::from)?)
    }

    /// Whether a second factor (TOTP) is on; visible to the user and to staff with
    /// `customers:read`.
    async fn mfa_enabled(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        self.require_owner_or_admin(ctx)?;
        Ok(service(ctx)
            .has_second_factor(&self.row.id)
            .await
            .map_err(ApiError::internal)?)
    }

    /// Recovery codes not used yet; visible to the user only.
    async fn recovery_codes_left(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if viewer(ctx).require_user()? != self.row.id {
            return Err(ApiError::Forbidden.into());
        }
        Ok(service(ctx)
            .store
            .recovery_codes_left(&self.row.id)
            .await
            .map_err(ApiError::from)?)
    }

    async fn created_at(&self) -> String {
        primitives::time::format_millis(self.row.created_at)
    }

    /// Visible to staff with `customers:read`.
    async fn disabled(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        viewer(ctx).require_permission(Permission::CustomersRead)?;
        Ok(self.row.disabled_at.is_some())
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Address {
    pub id: ID,
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub phone: Option<String>,
}

impl From<AddressRow> for Address {
    fn from(row: AddressRow) -> Self {
        Self {
            id: ID(row.id),
            full_name: row.full_name,
            line1: row.line1,
            line2: row.line2,
            city: row.city,
            region: row.region,
            postal_code: row.postal_code,
            country_code: row.country_code,
            phone: row.phone,
        }
    }
}

/// Users by id: one query per batch, for `_entities` and lists.
pub struct UserLoader {
    service: Arc<AccountsService>,
}

impl UserLoader {
    pub fn new(service: Arc<AccountsService>) -> Self {
        Self { service }
    }
}

impl Loader<String> for UserLoader {
    type Value = UserRow;
    type Error = Arc<crate::store::StoreError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, UserRow>, Self::Error> {
        let rows = self
            .service
            .store
            .users_by_ids(keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
    }
}

/// Address books by user id: one query per batch.
pub struct AddressLoader {
    service: Arc<AccountsService>,
}

impl AddressLoader {
    pub fn new(service: Arc<AccountsService>) -> Self {
        Self { service }
    }
}

impl Loader<String> for AddressLoader {
    type Value = Vec<AddressRow>;
    type Error = Arc<crate::store::StoreError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<AddressRow>>, Self::Error> {
        let rows = self
            .service
            .store
            .addresses_of(keys)
            .await
            .map_err(Arc::new)?;
        let mut by_user: HashMap<String, Vec<AddressRow>> = HashMap::new();
        for row in rows {
            by_user.entry(row.user_id.clone()).or_default().push(row);
        }
        Ok(by_user)
    }
}

/// The account behind the request's token. A token outlives neither its account nor the
/// account's disabling: both make it UNAUTHENTICATED here, before the token expires.
pub(crate) async fn signed_in_user(ctx: &Context<'_>) -> Result<UserRow, ApiError> {
    let id = viewer(ctx).require_user()?;
    load_row(ctx, id)
        .await?
        .filter(|r| r.disabled_at.is_none())
        .ok_or(ApiError::Unauthenticated)
}

/// A user's row through the request's [`UserLoader`].
async fn load_row(ctx: &Context<'_>, id: &str) -> Result<Option<UserRow>, ApiError> {
    let loader = ctx.data_unchecked::<DataLoader<UserLoader>>();
    loader
        .load_one(id.to_string())
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))
}

pub(crate) async fn load_user(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<User>> {
    Ok(load_row(ctx, id).await?.map(User::from))
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user; null without a token.
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(Some(User::from(signed_in_user(ctx).await?)))
    }

    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<User>> {
        load_user(ctx, &id).await
    }
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub name: String,
}

#[derive(InputObject)]
pub struct UpdateAddressInput {
    pub id: ID,
    pub address: AddressInput,
}

#[derive(InputObject)]
pub struct DeleteAddressInput {
    pub id: ID,
}

#[derive(SimpleObject, Default)]
pub struct UserPayload {
    pub user: Option<User>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct AddressPayload {
    pub address: Option<Address>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct DeleteAddressPayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<UserPayload> {
        let me = &signed_in_user(ctx).await?.id;
        payload(
            service(ctx).update_name(me, &input.name).await,
            |row, user_errors| UserPayload {
                user: row.map(Into::into),
                user_errors,
            },
        )
    }

    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn add_address(
        &self,
        ctx: &Context<'_>,
        input: AddressInput,
    ) -> async_graphql::Result<AddressPayload> {
        let me = &signed_in_user(ctx).await?.id;
        payload(
            service(ctx).add_address(me, input).await,
            |row, user_errors| AddressPayload {
                address: row.map(Into::into),
                user_errors,
            },
        )
    }

    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        input: UpdateAddressInput,
    ) -> async_graphql::Result<AddressPayload> {
        let me = &signed_in_user(ctx).await?.id;
        payload(
            service(ctx)
                .update_address(me, &input.id, input.address)
                .await,
            |row, user_errors| AddressPayload {
                address: row.map(Into::into),
                user_errors,
            },
        )
    }

    #[graphql(directive = kit::schema::authenticated::apply())]
    async fn delete_address(
        &self,
        ctx: &Context<'_>,
        input: DeleteAddressInput,
    ) -> async_graphql::Result<DeleteAddressPayload> {
        let me = &signed_in_user(ctx).await?.id;
        let deleted = service(ctx).delete_address(me, &input.id).await;
        payload(deleted.map(|()| input.id), |deleted_id, user_errors| {
            DeleteAddressPayload {
                deleted_id,
                user_errors,
            }
        })
    }
}
