//! Staff roles: the permissions they group, who holds them, and changes to both (each needs
//! `staff:manage`; nobody changes their own access).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use kit::audit::Auditor;

use super::{payload, service, viewer, AccountUserError, User};
use crate::domain::staff;
use crate::store::UserRow;

/// What a staff member may do; an access token carries each as a scope (`catalog:write`, …),
/// and every staff operation declares the one it needs with `@requiresScopes`.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "auth::Permission", name = "Permission")]
pub enum PermissionValue {
    CatalogWrite,
    InventoryRead,
    InventoryWrite,
    OrdersRead,
    OrdersWrite,
    OrdersRefund,
    PromotionsWrite,
    ReviewsModerate,
    CustomersRead,
    CustomersWrite,
    StaffManage,
    ApiClientsManage,
    SettingsWrite,
}

pub fn permission_values(permissions: &[Permission]) -> Vec<PermissionValue> {
    permissions.iter().map(|&p| p.into()).collect()
}

fn permissions(values: &[PermissionValue]) -> Vec<Permission> {
    values.iter().map(|&v| v.into()).collect()
}

/// A named group of permissions that staff members hold.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct StaffRole {
    pub id: ID,
    pub name: String,
    pub permissions: Vec<PermissionValue>,
    pub updated_at: String,
}

impl From<staff::StaffRole> for StaffRole {
    fn from(role: staff::StaffRole) -> Self {
        Self {
            id: ID(role.id),
            name: role.name,
            permissions: permission_values(&role.permissions),
            updated_at: primitives::time::format_millis(role.updated_at),
        }
    }
}

#[async_graphql::ComplexObject]
impl StaffRole {
    /// How many users hold it.
    async fn member_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(service(ctx)
            .store
            .member_count(&self.id)
            .await
            .map_err(kit::ApiError::from)?)
    }
}

/// A user as staff managers see them: who they are and the staff roles they hold (none for a
/// user who is not staff yet).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct StaffMember {
    pub id: ID,
    pub name: String,
    pub email: String,
    pub disabled: bool,
}

impl From<UserRow> for StaffMember {
    fn from(row: UserRow) -> Self {
        Self {
            id: ID(row.id),
            name: row.name,
            email: row.email,
            disabled: row.disabled_at.is_some(),
        }
    }
}

#[async_graphql::ComplexObject]
impl StaffMember {
    async fn staff_roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StaffRole>> {
        let roles = service(ctx)
            .store
            .staff_roles_of(&self.id)
            .await
            .map_err(kit::ApiError::from)?;
        Ok(roles.into_iter().map(StaffRole::from).collect())
    }
}

#[derive(Default)]
pub struct StaffQuery;

#[Object]
impl StaffQuery {
    /// Every staff role, by name.
    #[graphql(requires_scopes = "staff:manage")]
    async fn staff_roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StaffRole>> {
        viewer(ctx).require_permission(Permission::StaffManage)?;
        let roles = service(ctx)
            .staff_roles()
            .await
            .map_err(kit::ApiError::internal)?;
        Ok(roles.into_iter().map(StaffRole::from).collect())
    }

    /// Every user holding a staff role, by email.
    #[graphql(requires_scopes = "staff:manage")]
    async fn staff_members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StaffMember>> {
        viewer(ctx).require_permission(Permission::StaffManage)?;
        let users = service(ctx)
            .store
            .staff_users()
            .await
            .map_err(kit::ApiError::from)?;
        Ok(users.into_iter().map(StaffMember::from).collect())
    }

    /// The user with this email (in any case), to give staff roles to; null when there is none.
    #[graphql(requires_scopes = "staff:manage")]
    async fn staff_member(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> async_graphql::Result<Option<StaffMember>> {
        viewer(ctx).require_permission(Permission::StaffManage)?;
        let user = service(ctx)
            .store
            .user_by_email(&commerce::email::normalize(&email))
            .await
            .map_err(kit::ApiError::from)?;
        Ok(user.map(StaffMember::from))
    }
}

#[derive(InputObject)]
pub struct CreateStaffRoleInput {
    pub name: String,
    pub permissions: Vec<PermissionValue>,
}

#[derive(InputObject)]
pub struct UpdateStaffRoleInput {
    pub id: ID,
    /// Unchanged when not given.
    pub name: Option<String>,
    /// Replaces the role's permissions; unchanged when not given.
    pub permissions: Option<Vec<PermissionValue>>,
}

#[derive(InputObject)]
pub struct DeleteStaffRoleInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct SetStaffRolesInput {
    pub user_id: ID,
    /// Every role the user is to hold; empty: no longer staff.
    pub role_ids: Vec<ID>,
}

#[derive(SimpleObject, Default)]
pub struct StaffRolePayload {
    pub role: Option<StaffRole>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct DeleteStaffRolePayload {
    pub deleted_id: Option<ID>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(SimpleObject, Default)]
pub struct StaffMemberPayload {
    pub member: Option<StaffMember>,
    /// The same user as an account.
    pub user: Option<User>,
    pub user_errors: Vec<AccountUserError>,
}

#[derive(Default)]
pub struct StaffMutation;

#[Object]
impl StaffMutation {
    #[graphql(requires_scopes = "staff:manage")]
    async fn create_staff_role(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffRoleInput,
    ) -> async_graphql::Result<StaffRolePayload> {
        let staff = Auditor::require(ctx, Permission::StaffManage)?;
        payload(
            service(ctx)
                .create_staff_role(&staff, &input.name, &permissions(&input.permissions))
                .await,
            |role, user_errors| StaffRolePayload {
                role: role.map(Into::into),
                user_errors,
            },
        )
    }

    /// Members' tokens issued before stop working at once; their next refresh carries the
    /// role's new permissions.
    #[graphql(requires_scopes = "staff:manage")]
    async fn update_staff_role(
        &self,
        ctx: &Context<'_>,
        input: UpdateStaffRoleInput,
    ) -> async_graphql::Result<StaffRolePayload> {
        let staff = Auditor::require(ctx, Permission::StaffManage)?;
        let new_permissions = input.permissions.as_deref().map(permissions);
        payload(
            service(ctx)
                .update_staff_role(
                    &staff,
                    &input.id,
                    input.name.as_deref(),
                    new_permissions.as_deref(),
                )
                .await,
            |role, user_errors| StaffRolePayload {
                role: role.map(Into::into),
                user_errors,
            },
        )
    }

    #[graphql(requires_scopes = "staff:manage")]
    async fn delete_staff_role(
        &self,
        ctx: &Context<'_>,
        input: DeleteStaffRoleInput,
    ) -> async_graphql::Result<DeleteStaffRolePayload> {
        let staff = Auditor::require(ctx, Permission::StaffManage)?;
        let deleted = service(ctx).delete_staff_role(&staff, &input.id).await;
        payload(deleted.map(|()| input.id), |deleted_id, user_errors| {
            DeleteStaffRolePayload {
                deleted_id,
                user_errors,
            }
        })
    }

    /// The user's tokens issued before stop working at once.
    #[graphql(requires_scopes = "staff:manage")]
    async fn set_staff_roles(
        &self,
        ctx: &Context<'_>,
        input: SetStaffRolesInput,
    ) -> async_graphql::Result<StaffMemberPayload> {
        let staff = Auditor::require(ctx, Permission::StaffManage)?;
        let role_ids: Vec<String> = input.role_ids.into_iter().map(|id| id.0).collect();
        payload(
            service(ctx)
                .set_staff_roles(&staff, &input.user_id, &role_ids)
                .await,
            |user, user_errors| StaffMemberPayload {
                member: user.clone().map(Into::into),
                user: user.map(Into::into),
                user_errors,
            },
        )
    }
}
