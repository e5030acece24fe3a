//! Staff permissions: what a staff member may do. Staff roles (in accounts) group them; an
//! access token carries its holder's permissions as scopes, the router checks them against
//! `@requiresScopes`, and each subgraph checks the same permission before acting.

/// One thing staff may do. The scope names are what `@requiresScopes` declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Products, variants, media, brands, categories, collections, imports and exports.
    CatalogWrite,
    /// Warehouses, stock levels and the stock ledger.
    InventoryRead,
    /// Warehouses and stock adjustments.
    InventoryWrite,
    /// Every customer's orders, payments and shipments.
    OrdersRead,
    /// Order status, cancellation and fulfilment.
    OrdersWrite,
    /// Refunds.
    OrdersRefund,
    /// Promotion codes.
    PromotionsWrite,
    /// Approving and rejecting reviews; unpublished reviews.
    ReviewsModerate,
    /// Customers' accounts.
    CustomersRead,
    /// Disabling and enabling accounts.
    CustomersWrite,
    /// Staff roles, who holds them, and the audit log.
    StaffManage,
    /// API clients (services and partners) and their secrets.
    ApiClientsManage,
    /// Tax settings, notification templates and failed notifications.
    SettingsWrite,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Self::CatalogWrite,
        Self::InventoryRead,
        Self::InventoryWrite,
        Self::OrdersRead,
        Self::OrdersWrite,
        Self::OrdersRefund,
        Self::PromotionsWrite,
        Self::ReviewsModerate,
        Self::CustomersRead,
        Self::CustomersWrite,
        Self::StaffManage,
        Self::ApiClientsManage,
        Self::SettingsWrite,
    ];

    /// The scope an access token carries for it.
    pub fn scope(self) -> &'static str {
        match self {
            Self::CatalogWrite => "catalog:write",
            Self::InventoryRead => "inventory:read",
            Self::InventoryWrite => "inventory:write",
            Self::OrdersRead => "orders:read",
            Self::OrdersWrite => "orders:write",
            Self::OrdersRefund => "orders:refund",
            Self::PromotionsWrite => "promotions:write",
            Self::ReviewsModerate => "reviews:moderate",
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::StaffManage => "staff:manage",
            Self::ApiClientsManage => "api-clients:manage",
            Self::SettingsWrite => "settings:write",
        }
    }

    pub fn parse(scope: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.scope() == scope)
    }
}

/// Permissions as stored: their scopes, sorted, space-separated.
pub fn encode(permissions: &[Permission]) -> String {
    let mut permissions = permissions.to_vec();
    permissions.sort();
    permissions.dedup();
    permissions
        .iter()
        .map(|p| p.scope())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stored permission that is not one of ours: the row is corrupt (never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored permission {0:?} is unknown")]
pub struct UnknownPermission(pub String);

pub fn decode(stored: &str) -> Result<Vec<Permission>, UnknownPermission> {
    stored
        .split_whitespace()
        .map(|raw| Permission::parse(raw).ok_or_else(|| UnknownPermission(raw.into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_distinct_and_round_trip() {
        let mut scopes: Vec<&str> = Permission::ALL.iter().map(|p| p.scope()).collect();
        scopes.sort();
        scopes.dedup();
        assert_eq!(scopes.len(), Permission::ALL.len());
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.scope()), Some(permission));
        }
        assert_eq!(decode(&encode(&Permission::ALL)).unwrap().len(), 13);
        assert_eq!(
            decode("catalog:write admin"),
            Err(UnknownPermission("admin".into()))
        );
    }
}
