//! The shop's processes and their ports, listed once. The subgraphs' `Subgraph::PORT`, their
//! default URLs of each other (`CATALOG_URL`, `JWKS_URL`, ...), the embedded shop's launcher and
//! the deployment files (`deploy/generate.py` reads the `Process` constants of this file) all come
//! from here. A new subgraph adds its line here first.

/// A process of the shop and the port it listens on (also its port in the embedded shop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Process {
    pub name: &'static str,
    pub port: u16,
}

impl Process {
    /// Its GraphQL endpoint on this machine, the default where one service calls another.
    pub fn local_graphql_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// `path` on this machine (`/.well-known/jwks.json`, `/oauth/token`).
    pub fn local_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

pub const ROUTER: Process = Process {
    name: "router",
    port: 4000,
};
pub const ACCOUNTS: Process = Process {
    name: "accounts",
    port: 4001,
};
pub const CATALOG: Process = Process {
    name: "catalog",
    port: 4002,
};
pub const INVENTORY: Process = Process {
    name: "inventory",
    port: 4003,
};
pub const CARTS: Process = Process {
    name: "carts",
    port: 4004,
};
pub const ORDERS: Process = Process {
    name: "orders",
    port: 4005,
};
pub const PAYMENTS: Process = Process {
    name: "payments",
    port: 4006,
};
pub const SHIPPING: Process = Process {
    name: "shipping",
    port: 4007,
};
pub const REVIEWS: Process = Process {
    name: "reviews",
    port: 4008,
};
pub const NOTIFICATIONS: Process = Process {
    name: "notifications",
    port: 4009,
};
pub const RECOMMENDATIONS: Process = Process {
    name: "recommendations",
    port: 4010,
};

/// Every subgraph, in the order the shop starts them.
pub const SUBGRAPHS: [Process; 10] = [
    ACCOUNTS,
    CATALOG,
    INVENTORY,
    CARTS,
    ORDERS,
    PAYMENTS,
    SHIPPING,
    REVIEWS,
    NOTIFICATIONS,
    RECOMMENDATIONS,
];

/// The subgraph called `name`.
pub fn subgraph(name: &str) -> Option<Process> {
    SUBGRAPHS.iter().copied().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports_are_each_used_once() {
        let mut all: Vec<Process> = SUBGRAPHS.to_vec();
        all.push(ROUTER);
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.port, b.port, "{} and {}", a.name, b.name);
            }
        }
        assert_eq!(subgraph("orders"), Some(ORDERS));
        assert_eq!(subgraph("router"), None);
    }

    #[test]
    fn default_urls_point_at_this_machine() {
        assert_eq!(CATALOG.local_graphql_url(), "http://127.0.0.1:4002/graphql");
        assert_eq!(
            ACCOUNTS.local_url("/oauth/token"),
            "http://127.0.0.1:4001/oauth/token"
        );
    }
}
