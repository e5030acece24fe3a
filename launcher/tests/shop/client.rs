//! A test shop and a client with one method per operation.

use serde_json::{json, Value};
use shop::{Shop, ShopOptions};

pub struct TestShop {
    pub shop: Shop,
    pub options: ShopOptions,
    pub http: reqwest::Client,
    _data_dir: TempDir,
}

/// A data directory removed when the test ends.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(primitives::id::new_id("shop-test"));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestShop {
    /// A shop on free ports with fresh PostgreSQL schemas, an in-memory index and `demo_products`
    /// demo products (and the demo users when that is more than zero).
    pub async fn start(demo_products: usize) -> Self {
        Self::start_with(demo_products, |_| {}).await
    }

    /// Like [`TestShop::start`], with settings of the test's own.
    pub async fn start_with(
        demo_products: usize,
        configure: impl FnOnce(&mut ShopOptions),
    ) -> Self {
        let data_dir = TempDir::new();
        let mut options = ShopOptions::new(&data_dir.0);
        options.base_port = 0;
        options.read_environment = false;
        options.demo_products = demo_products;
        // A fresh PostgreSQL schema per subgraph. Two shops run at once (one per test thread)
        // and the test PostgreSQL allows 100 connections: each shop's pools stay under 45
        // together, the checkout's busiest services with the most (at the default of 10 each,
        // two shops reached the limit, and a refused connection is an internal error).
        const POOLS: [(&str, u32); 10] = [
            ("ACCOUNTS", 4),
            ("CATALOG", 4),
            ("INVENTORY", 8),
            ("CARTS", 3),
            ("ORDERS", 8),
            ("PAYMENTS", 6),
            ("SHIPPING", 3),
            ("REVIEWS", 3),
            ("NOTIFICATIONS", 3),
            ("RECOMMENDATIONS", 3),
        ];
        for (subgraph, pool) in POOLS {
            options.set(
                &format!("{subgraph}_DATABASE_URL"),
                storage::db::testing::postgres_url().await,
            );
            options.set(&format!("{subgraph}_DB_MAX_CONNECTIONS"), pool.to_string());
        }
        // Paid orders stay paid until a test ships them (the journeys turn this on).
        options.set("SHIPPING_AUTO_FULFIL", "false");
        // Checkouts waiting for a payment's result look again every second.
        options.set("ORDERS_SWEEP_INTERVAL_SECS", "1");
        options.set("CATALOG_SEARCH_DIR", ":memory:");
        // Production's bus: Redis, in a namespace of this test's own.
        options.set("EVENTS_URL", "redis://127.0.0.1:6379");
        let namespace = primitives::id::new_id("shop-test");
        options.set("EVENTS_NAMESPACE", namespace.clone());
        // Production's cart store too.
        options.set("CARTS_REDIS_URL", "redis://127.0.0.1:6379");
        options.set("CARTS_REDIS_NAMESPACE", namespace);
        configure(&mut options);
        Self::with_options(options, data_dir).await
    }

    pub async fn with_options(mut options: ShopOptions, data_dir: TempDir) -> Self {
        // Staff (the demo admin) hold their permissions without a second factor here; the tests
        // of the second factor require it again.
        if !options.settings.contains_key("ACCOUNTS_STAFF_MFA") {
            options.set("ACCOUNTS_STAFF_MFA", "optional");
        }
        let shop = Shop::start(&options).await.expect("shop starts");
        Self {
            shop,
            options,
            // Idle connections are dropped before the router would close them (reqwest's own
            // default keeps them longer: a request on one the router just closed is lost).
            http: web::client::http_client(),
            _data_dir: data_dir,
        }
    }

    /// A test's own consumer group ("observer") on `topic` of the shop's bus, from now on.
    pub async fn observe(&self, topic: &str) -> Observer {
        let events = self.events();
        Observer::new(&events.url, &events.namespace, topic).await
    }

    /// The event bus the shop's subgraphs share.
    pub fn events(&self) -> kit::settings::EventBusSettings {
        kit::settings::EventBusSettings::load(&self.options.env("test")).expect("valid settings")
    }

    /// The access changes (revocations) the router has applied so far.
    pub fn router_revocations(&self) -> u64 {
        let applied = *self.revocations().watch().borrow();
        applied
    }

    /// Waits until the router has applied `count` access changes (revocations) in all.
    pub async fn router_applied(&self, count: u64) {
        let mut applied = self.revocations().watch();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            applied.wait_for(|n| *n >= count),
        )
        .await
        .expect("the router applies the change within 10 s")
        .expect("the revocations live as long as the router");
    }

    /// The router's revocations, which follow the shop's bus.
    fn revocations(&self) -> &auth::revocation::Revocations {
        let (revocations, _) = self
            .shop
            .router_state
            .revocations
            .as_ref()
            .expect("the shop's router follows the bus");
        revocations
    }

    /// Posts an operation to the router; returns the HTTP status and the JSON body.
    pub async fn post(&self, query: &str, variables: Value, token: Option<&str>) -> (u16, Value) {
        let body = json!({ "query": query, "variables": variables });
        self.post_body(&self.shop.router_url(), body, token).await
    }

    /// Posts a whole GraphQL-over-HTTP body to `url` (a router); the status and JSON body.
    pub async fn post_body(&self, url: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        answer(self.http.post(url).json(&body), token).await
    }

    /// Posts and expects data without errors.
    pub async fn data(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let (status, body) = self.post(query, variables, token).await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "{status}: {body:#}"
        );
        body["data"].clone()
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Value {
        self.data(
            "mutation($input: RegisterInput!) { register(input: $input) {
                accessToken refreshToken expiresIn user { id email name }
                userErrors { field code message } } }",
            json!({ "input": { "email": email, "password": password, "name": name } }),
            None,
        )
        .await["register"]
            .clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.data(
            "mutation($input: LoginInput!) { login(input: $input) {
                accessToken refreshToken user { id } userErrors { code message } } }",
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await["login"]
            .clone()
    }

    /// The access token of a successful login.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let login = self.login(email, password).await;
        login["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {login}"))
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.token(shop::DEMO_ADMIN.0, shop::DEMO_ADMIN.1).await
    }

    /// A request straight to subgraph `name`'s GraphQL endpoint carrying the router's secret, as
    /// the router's own requests do (without it the port serves only services).
    pub fn as_router(&self, name: &str) -> reqwest::RequestBuilder {
        self.as_router_to(&format!("http://{}/graphql", self.shop.address(name)))
    }

    /// Like [`TestShop::as_router`], to a subgraph at `url` (one run as a process of its own).
    pub fn as_router_to(&self, url: &str) -> reqwest::RequestBuilder {
        let secret = self.shop.router_config.subgraph_secret.as_deref().unwrap();
        self.http
            .post(url)
            .header(web::server::ROUTER_SECRET_HEADER, secret)
    }

    /// A client-credentials access token for a new API client of `kind` with `scopes`, from
    /// accounts' `/oauth/token`.
    pub async fn client_token(
        &self,
        name: &str,
        kind: accounts::ClientKind,
        scopes: &[&str],
    ) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (client, secret) = self
            .shop
            .subgraph::<accounts::Accounts>()
            .service
            .register_client(name, kind, &scopes)
            .await
            .unwrap();
        let body: Value = self
            .http
            .post(format!(
                "http://{}/oauth/token",
                self.shop.address("accounts")
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn customer_token(&self) -> String {
        self.token(shop::DEMO_CUSTOMER.0, shop::DEMO_CUSTOMER.1)
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.data(
            "mutation($input: RefreshTokenInput!) { refreshToken(input: $input) {
                accessToken refreshToken userErrors { code } } }",
            json!({ "input": { "refreshToken": refresh_token } }),
            None,
        )
        .await["refreshToken"]
            .clone()
    }

    pub async fn search(&self, query: &str, extra: Value) -> Value {
        let mut variables = json!({ "query": query });
        if let (Some(target), Some(extra)) = (variables.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        self.data(
            "query($query: String!, $filter: ProductSearchFilter, $sort: ProductSearchSort, $first: Int, $after: String) {
                searchProducts(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
                    totalCount
                    pageInfo { hasNextPage endCursor }
                    edges { node { id sku name price { amount } brand { id name } category { id name } } }
                    facets {
                        brands { brand { id name } count }
                        categories { category { id name } count }
                        prices { min { amount } max { amount } count }
                    }
                } }",
            variables,
            None,
        )
        .await["searchProducts"]
            .clone()
    }

    /// Creates a product as admin; returns the payload.
    pub async fn create_product(&self, token: &str, input: Value) -> (u16, Value) {
        self.post(
            "mutation($input: CreateProductInput!) { createProduct(input: $input) {
                product { id sku slug name status price { amount currencyCode } }
                userErrors { field code message } } }",
            json!({ "input": input }),
            Some(token),
        )
        .await
    }

    /// Some category id (leaf) and brand id from the demo catalog.
    pub async fn some_category_and_brand(&self) -> (String, String) {
        let data = self
            .data(
                "{ categories { id children { id } } brands { id } }",
                json!({}),
                None,
            )
            .await;
        let category = data["categories"][0]["children"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let brand = data["brands"][0]["id"].as_str().unwrap().to_string();
        (category, brand)
    }
}

/// The id and body of the published operation `name` (the manifest the shop serves).
pub fn published(name: &str) -> (String, String) {
    let manifest: Value = serde_json::from_str(shop::PERSISTED_OPERATIONS).unwrap();
    let entry = manifest["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no published operation {name}"));
    (
        entry["id"].as_str().unwrap().to_string(),
        entry["body"].as_str().unwrap().to_string(),
    )
}

/// A request body naming a persisted operation by hash (the APQ form).
pub fn by_hash(hash: &str, variables: Value) -> Value {
    json!({
        "variables": variables,
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } }
    })
}

/// The code of the first error in a response.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// The code of the first userError of a payload.
pub fn user_error_code(payload: &Value) -> &str {
    payload["userErrors"][0]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// A test listening to one topic of an event bus, in a consumer group of its own.
pub struct Observer {
    bus: std::sync::Arc<dyn event_bus::EventBus>,
    topic: String,
}

impl Observer {
    pub async fn new(url: &str, namespace: &str, topic: &str) -> Self {
        let bus = storage::bus::connect(url, namespace, None).await.unwrap();
        bus.subscribe(topic, "observer").await.unwrap();
        Self {
            bus,
            topic: topic.into(),
        }
    }

    /// The events that arrived, waiting up to `wait` for the first; empty if none came.
    pub async fn next(&self, wait: std::time::Duration) -> Vec<event_bus::Event> {
        let deliveries = self
            .bus
            .fetch(
                &self.topic,
                "observer",
                "test",
                10,
                std::time::Duration::from_secs(3600),
                wait,
            )
            .await
            .unwrap();
        deliveries.iter().map(|d| d.event().unwrap()).collect()
    }
}

/// Sends `request` with `token`; the HTTP status and the JSON body.
pub async fn answer(mut request: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("router answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}
