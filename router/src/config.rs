//! Router configuration: one typed struct, read from an optional TOML file, then overridden by
//! environment variables (both through [`configuration::Source`], as every subgraph reads its
//! settings), then validated.
//!
//! File keys (all optional):
//! ```toml
//! listen = "127.0.0.1:4000"
//! metrics_listen = "127.0.0.1:9090"  # /metrics on a listener of its own; none: not served
//! introspection = true
//! plan_cache_size = 1000
//! cors_allow_origins = ["https://shop.example.com"]  # or ["*"]; empty: no CORS headers
//! subgraph_secret = "..."      # sent to subgraphs as x-router-secret (ROUTER_SUBGRAPH_SECRET)
//! subgraph_ca_file = "/etc/shop/ca.pem"  # trusted for https:// subgraphs and JWKS besides web roots; rediss:// Redis's CA
//! [timeouts]
//! subgraph_ms = 30000
//! [http]                      # client connections
//! header_read_timeout_ms = 10000  # a new connection's first request headers within this
//! idle_timeout_ms = 75000      # a kept-alive connection's next request within this
//! request_timeout_ms = 60000   # from headers to response; slower ones get 408
//! max_connections = 4096       # open at once; more wait in the listen backlog
//! [limits]
//! max_body_bytes = 2097152
//! max_depth = 64
//! max_aliases = 256
//! max_root_fields = 64
//! max_tokens = 15000
//! max_upload_bytes = 10485760  # each file of a multipart request (GraphQL multipart request spec)
//! max_uploads = 4              # files per request; 0 refuses multipart requests
//! planning_timeout_ms = 10000  # planning one operation; a slower one is refused (QUERY_PLANNING_TIMEOUT)
//! [auth]                       # without jwks_url tokens are not checked here
//! jwks_url = "http://accounts:4001/.well-known/jwks.json"
//! issuer = "shop-accounts"
//! audience = "shop"
//! max_token_lifetime_secs = 86400  # tokens whose exp lies further after their iat are refused
//! events_url = "redis://redis:6379"  # apply revocations (user.access_changed) from the bus
//! events_namespace = "shop"
//! [dedupe]                     # queries only; mutations are never shared
//! subgraph_requests = true     # identical in-flight subgraph requests share one HTTP call
//! client_requests = true       # identical in-flight client operations share one execution
//! redis_url = "redis://redis:6379"  # shared by replicas: APQ registrations, rate-limit buckets
//! redis_namespace = "shop"
//! [persisted]
//! manifest = "frontend-queries/persisted-operations.json"  # none: nothing published
//! reload_interval_ms = 2000    # the file is read again when it changes
//! safelist = "partners"        # who may run published operations only: "partners" or "all"
//! apq = true                   # automatic persisted queries for the other clients
//! apq_ttl_secs = 86400         # how long a registration lives in Redis
//! apq_local_entries = 10000    # registrations each replica keeps in memory
//! [circuit_breaker]           # per subgraph
//! enabled = true
//! failure_threshold = 5        # failed calls in a row that open the circuit
//! open_ms = 5000               # how long calls are refused before one probes
//! [demand_control]            # an operation's cost, estimated before it runs
//! enabled = true
//! max_cost = 10000             # refuse costlier operations; none (the default): refuse none
//! report_over = 10000          # log an operation the first time it costs more than this
//! default_list_size = 10       # lists without first/last or @listSize
//! [rate_limits]               # per client: partner client id, user, or address
//! enabled = false
//! queries_per_second = 50
//! query_burst = 100
//! mutations_per_second = 5
//! mutation_burst = 20
//! trusted_proxy_hops = 0       # load balancers in front appending to x-forwarded-for
//! [subgraphs.reviews]
//! url = "http://reviews:4008/graphql"
//! timeout_ms = 5000
//! dedupe = false               # overrides dedupe.subgraph_requests for this subgraph
//! ```
//! Environment variables override the file: each key of [`VARIABLES`] (`ROUTER_MAX_DEPTH` sets
//! `limits.max_depth`; booleans as `true`/`false`, `ROUTER_CORS_ALLOW_ORIGINS` comma-separated),
//! and `ROUTER_SUBGRAPH_<NAME>_URL` (name upper-cased, `-` as `_`) one subgraph's URL. A blank
//! variable counts as unset. Errors name the variable or the file's key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use configuration::{Source, Var};
use serde::{Deserialize, Serialize};

pub use configuration::ConfigError;

/// The environment variables and the keys they set, over the file's.
pub const VARIABLES: &[(&str, &str)] = &[
    ("ROUTER_LISTEN", "listen"),
    ("ROUTER_METRICS_LISTEN", "metrics_listen"),
    ("ROUTER_SUBGRAPH_SECRET", "subgraph_secret"),
    ("ROUTER_SUBGRAPH_CA_FILE", "subgraph_ca_file"),
    ("ROUTER_INTROSPECTION", "introspection"),
    ("ROUTER_CORS_ALLOW_ORIGINS", "cors_allow_origins"),
    (
        "ROUTER_HTTP_HEADER_READ_TIMEOUT_MS",
        "http.header_read_timeout_ms",
    ),
    ("ROUTER_HTTP_IDLE_TIMEOUT_MS", "http.idle_timeout_ms"),
    ("ROUTER_HTTP_REQUEST_TIMEOUT_MS", "http.request_timeout_ms"),
    ("ROUTER_HTTP_MAX_CONNECTIONS", "http.max_connections"),
    ("ROUTER_HTTP_THREADS", "http.threads"),
    ("ROUTER_SUBGRAPH_TIMEOUT_MS", "timeouts.subgraph_ms"),
    ("ROUTER_MAX_BODY_BYTES", "limits.max_body_bytes"),
    ("ROUTER_MAX_DEPTH", "limits.max_depth"),
    ("ROUTER_MAX_UPLOAD_BYTES", "limits.max_upload_bytes"),
    ("ROUTER_MAX_UPLOADS", "limits.max_uploads"),
    ("ROUTER_PLANNING_TIMEOUT_MS", "limits.planning_timeout_ms"),
    ("ROUTER_JWKS_URL", "auth.jwks_url"),
    ("ROUTER_JWT_ISSUER", "auth.issuer"),
    ("ROUTER_JWT_AUDIENCE", "auth.audience"),
    (
        "ROUTER_JWT_MAX_LIFETIME_SECS",
        "auth.max_token_lifetime_secs",
    ),
    ("ROUTER_EVENTS_URL", "auth.events_url"),
    ("ROUTER_EVENTS_NAMESPACE", "auth.events_namespace"),
    (
        "ROUTER_DEDUPE_SUBGRAPH_REQUESTS",
        "dedupe.subgraph_requests",
    ),
    ("ROUTER_DEDUPE_CLIENT_REQUESTS", "dedupe.client_requests"),
    ("ROUTER_REDIS_URL", "redis_url"),
    ("ROUTER_REDIS_NAMESPACE", "redis_namespace"),
    ("ROUTER_PERSISTED_MANIFEST", "persisted.manifest"),
    ("ROUTER_SAFELIST", "persisted.safelist"),
    ("ROUTER_APQ", "persisted.apq"),
    ("ROUTER_RATE_LIMITS", "rate_limits.enabled"),
    (
        "ROUTER_RATE_LIMIT_QUERIES_PER_SECOND",
        "rate_limits.queries_per_second",
    ),
    ("ROUTER_RATE_LIMIT_QUERY_BURST", "rate_limits.query_burst"),
    (
        "ROUTER_RATE_LIMIT_MUTATIONS_PER_SECOND",
        "rate_limits.mutations_per_second",
    ),
    (
        "ROUTER_RATE_LIMIT_MUTATION_BURST",
        "rate_limits.mutation_burst",
    ),
    (
        "ROUTER_TRUSTED_PROXY_HOPS",
        "rate_limits.trusted_proxy_hops",
    ),
    ("ROUTER_DEMAND_CONTROL", "demand_control.enabled"),
    ("ROUTER_MAX_COST", "demand_control.max_cost"),
    ("ROUTER_CIRCUIT_BREAKER", "circuit_breaker.enabled"),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    pub listen: SocketAddr,
    /// Where `/metrics` is served: never on the public port, where anyone could read the
    /// traffic's shape.
    pub metrics_listen: Option<SocketAddr>,
    pub http: HttpConfig,
    /// Proves to the subgraphs that a request comes from the router (`x-router-secret`), so they
    /// trust its `x-forwarded-for` and serve partners' operations.
    pub subgraph_secret: Option<String>,
    /// PEM certificates trusted for `https://` subgraphs and the JWKS besides the usual web roots
    /// (a private CA); for a `rediss://` Redis, the CA its certificate must come from.
    pub subgraph_ca_file: Option<std::path::PathBuf>,
    /// Whether `__schema` / `__type` are answered.
    pub introspection: bool,
    /// How many prepared (validated and planned) operations are kept.
    pub plan_cache_size: usize,
    /// Browser origins allowed to call the router (`*` for any); empty sends no CORS headers.
    /// A list in the file, comma-separated in `ROUTER_CORS_ALLOW_ORIGINS`.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_allow_origins: Vec<String>,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub auth: AuthConfig,
    pub dedupe: DedupeConfig,
    /// The Redis router replicas share state through; without it each keeps its own in memory.
    pub redis_url: Option<String>,
    pub redis_namespace: String,
    pub persisted: PersistedConfig,
    pub rate_limits: RateLimitConfig,
    pub demand_control: DemandControl,
    pub circuit_breaker: CircuitBreakerConfig,
    /// Per-subgraph overrides keyed by subgraph name.
    pub subgraphs: HashMap<String, SubgraphConfig>,
}

/// Limits on client connections (see [`web::serve::HttpLimits`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub header_read_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// Across all serving threads.
    pub max_connections: usize,
    /// Threads that serve clients, each with a single-threaded runtime of its own that accepts
    /// on the listener and keeps its own subgraph connections: a request's work, and the memory
    /// it allocates, stays on one thread. The `router` binary makes one per core unless set;
    /// unset elsewhere (the embedded shop), the caller's runtime serves.
    pub threads: Option<usize>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let limits = web::serve::HttpLimits::default();
        Self {
            header_read_timeout_ms: limits.header_read_timeout.as_millis() as u64,
            idle_timeout_ms: limits.idle_timeout.as_millis() as u64,
            request_timeout_ms: limits.request_timeout.as_millis() as u64,
            max_connections: limits.max_connections,
            threads: None,
        }
    }
}

impl HttpConfig {
    /// How many threads serve clients (see [`HttpConfig::threads`]); 1 when the caller's
    /// runtime does.
    pub fn serving_threads(&self) -> usize {
        self.threads.unwrap_or(1).max(1)
    }

    pub fn limits(&self) -> web::serve::HttpLimits {
        web::serve::HttpLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            max_connections: self.max_connections,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    pub subgraph_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_depth: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_tokens: usize,
    /// The largest file a multipart request may carry.
    pub max_upload_bytes: usize,
    /// Files per multipart request.
    pub max_uploads: usize,
    /// How long planning one operation may take before it is refused; the refusal is
    /// remembered, so an operation that cannot be planned in time costs this once.
    pub planning_timeout_ms: u64,
}

/// Bearer-token verification. With a JWKS URL the router verifies every token it is sent and
/// enforces `@authenticated` and `@requiresScopes`; without one it forwards tokens unchecked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub jwks_url: Option<String>,
    pub issuer: String,
    pub audience: String,
    /// The longest `exp` - `iat` accepted.
    pub max_token_lifetime_secs: i64,
    /// The event bus (`redis://...` or `sqlite://...`) whose `user.access_changed` events make
    /// tokens of disabled users and users with changed roles stop working at once; without it
    /// they work until they expire.
    pub events_url: Option<String>,
    pub events_namespace: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwks_url: None,
            issuer: "shop-accounts".into(),
            audience: "shop".into(),
            max_token_lifetime_secs: auth::JwtSettings::DEFAULT_MAX_LIFETIME_SECS,
            events_url: None,
            events_namespace: "shop".into(),
        }
    }
}

/// Deduplication of identical in-flight work, for queries only (a mutation always runs).
///
/// Both are on by default: a request only ever shares with one that is identical in everything
/// its answer depends on (for clients: the operation, its variables and every header that
/// reaches a subgraph or the authorization decision) and that is running at that moment, so the
/// shared answer is one the request could have had on its own, a few milliseconds earlier.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupeConfig {
    /// Identical in-flight subgraph requests (subgraph, body, forwarded headers) share a call.
    pub subgraph_requests: bool,
    /// Identical in-flight client operations share one execution and one response.
    pub client_requests: bool,
}

impl Default for DedupeConfig {
    fn default() -> Self {
        Self {
            subgraph_requests: true,
            client_requests: true,
        }
    }
}

/// Who may run only the operations of the persisted-operation manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Safelist {
    /// Partners (tokens with the `partner` role); other clients may send any operation.
    Partners,
    /// Every client: free-form operations and APQ registrations are refused.
    All,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistedConfig {
    pub manifest: Option<std::path::PathBuf>,
    pub reload_interval_ms: u64,
    pub safelist: Safelist,
    pub apq: bool,
    pub apq_ttl_secs: u64,
    pub apq_local_entries: usize,
}

impl Default for PersistedConfig {
    fn default() -> Self {
        Self {
            manifest: None,
            reload_interval_ms: 2000,
            safelist: Safelist::Partners,
            apq: true,
            apq_ttl_secs: 24 * 3600,
            apq_local_entries: 10_000,
        }
    }
}

/// Per-subgraph circuit breakers: a subgraph that keeps failing gets no calls for a moment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitBreakerConfig {
    pub enabled: bool,
    pub failure_threshold: u32,
    pub open_ms: u64,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            failure_threshold: 5,
            open_ms: 5000,
        }
    }
}

/// Demand control: every operation's cost is estimated (a metric, and `extensions.cost` when
/// asked for); only with a `max_cost` configured are costlier operations refused, so a router
/// put in front of any supergraph never refuses ordinary traffic by surprise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemandControl {
    pub enabled: bool,
    /// Operations estimated costlier are refused; none: none are.
    pub max_cost: Option<u64>,
    /// An operation estimated costlier is logged (once per prepared operation), so operators
    /// can set `max_cost` from what their clients send.
    pub report_over: u64,
    /// The size assumed for a list without `first`/`last` or `@listSize`.
    pub default_list_size: u64,
}

impl Default for DemandControl {
    fn default() -> Self {
        Self {
            enabled: true,
            max_cost: None,
            report_over: 10_000,
            default_list_size: 10,
        }
    }
}

/// Token buckets per client (a partner's client id, a user, or the address of an anonymous
/// caller); queries and mutations have their own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub queries_per_second: f64,
    pub query_burst: f64,
    pub mutations_per_second: f64,
    pub mutation_burst: f64,
    /// How many proxies in front of the router append to `x-forwarded-for`: the caller's
    /// address is the entry that many places before the router's own (0: the peer address).
    pub trusted_proxy_hops: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            queries_per_second: 50.0,
            query_burst: 100.0,
            mutations_per_second: 5.0,
            mutation_burst: 20.0,
            trusted_proxy_hops: 0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    pub url: Option<String>,
    pub timeout_ms: Option<u64>,
    /// Whether this subgraph's identical in-flight query requests share one call; unset
    /// follows `dedupe.subgraph_requests`.
    pub dedupe: Option<bool>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            metrics_listen: None,
            http: HttpConfig::default(),
            subgraph_secret: None,
            subgraph_ca_file: None,
            introspection: true,
            plan_cache_size: 1000,
            cors_allow_origins: Vec::new(),
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            auth: AuthConfig::default(),
            dedupe: DedupeConfig::default(),
            redis_url: None,
            redis_namespace: "shop".into(),
            persisted: PersistedConfig::default(),
            rate_limits: RateLimitConfig::default(),
            demand_control: DemandControl::default(),
            circuit_breaker: CircuitBreakerConfig::default(),
            subgraphs: HashMap::new(),
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            subgraph_ms: 30_000,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_depth: 64,
            max_aliases: 256,
            max_root_fields: 64,
            max_tokens: 15_000,
            max_upload_bytes: 10 * 1024 * 1024,
            max_uploads: 4,
            planning_timeout_ms: 10_000,
        }
    }
}

impl RouterConfig {
    /// Reads the settings of `source` (its TOML file, then its variables; see the module's
    /// documentation) over the defaults, with `ROUTER_SUBGRAPH_<NAME>_URL` for each of
    /// `subgraphs`, and validates them.
    pub fn load<'a>(
        source: &Source,
        subgraphs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ConfigError> {
        let mut vars: Vec<Var> = VARIABLES
            .iter()
            .map(|(name, key)| Var::new(*name, *key))
            .collect();
        vars.extend(subgraphs.into_iter().map(|name| {
            Var::new(
                format!(
                    "ROUTER_SUBGRAPH_{}_URL",
                    name.to_uppercase().replace('-', "_")
                ),
                format!("subgraphs.{name}.url"),
            )
        }));
        let config: Self = source.extract(&Self::default(), &vars)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("timeouts.subgraph_ms", self.timeouts.subgraph_ms as usize),
            (
                "http.header_read_timeout_ms",
                self.http.header_read_timeout_ms as usize,
            ),
            ("http.idle_timeout_ms", self.http.idle_timeout_ms as usize),
            (
                "http.request_timeout_ms",
                self.http.request_timeout_ms as usize,
            ),
            ("http.max_connections", self.http.max_connections),
            ("http.threads", self.http.threads.unwrap_or(1)),
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("limits.max_depth", self.limits.max_depth),
            ("limits.max_aliases", self.limits.max_aliases),
            ("limits.max_root_fields", self.limits.max_root_fields),
            ("limits.max_tokens", self.limits.max_tokens),
            ("limits.max_upload_bytes", self.limits.max_upload_bytes),
            (
                "limits.planning_timeout_ms",
                self.limits.planning_timeout_ms as usize,
            ),
            ("plan_cache_size", self.plan_cache_size),
            (
                "demand_control.max_cost",
                self.demand_control.max_cost.unwrap_or(1) as usize,
            ),
            (
                "persisted.reload_interval_ms",
                self.persisted.reload_interval_ms as usize,
            ),
            (
                "persisted.apq_ttl_secs",
                self.persisted.apq_ttl_secs as usize,
            ),
        ];
        for (setting, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    name: setting.into(),
                    message: "must be greater than zero".into(),
                });
            }
        }
        let limits = &self.rate_limits;
        for (setting, value, least) in [
            (
                "rate_limits.queries_per_second",
                limits.queries_per_second,
                0.0,
            ),
            ("rate_limits.query_burst", limits.query_burst, 1.0),
            (
                "rate_limits.mutations_per_second",
                limits.mutations_per_second,
                0.0,
            ),
            ("rate_limits.mutation_burst", limits.mutation_burst, 1.0),
        ] {
            if !(value.is_finite() && value >= least && value > 0.0) {
                return Err(ConfigError::Invalid {
                    name: setting.into(),
                    message: format!("must be a number of at least {least} and above zero"),
                });
            }
        }
        if let Some(url) = &self.redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid {
                    name: "redis_url".into(),
                    message: format!("{url:?} is not a redis:// or rediss:// URL"),
                });
            }
        }
        for origin in &self.cors_allow_origins {
            if origin != "*" && http::HeaderValue::from_str(origin).is_err() {
                return Err(ConfigError::Invalid {
                    name: "cors_allow_origins".into(),
                    message: format!("{origin:?} is not a valid origin"),
                });
            }
        }
        if let Some(url) = &self.auth.jwks_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    name: "auth.jwks_url".into(),
                    message: format!("{url:?} is not an http(s) URL"),
                });
            }
        }
        for (name, subgraph) in &self.subgraphs {
            if let Some(url) = &subgraph.url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        name: format!("subgraphs.{name}.url"),
                        message: format!("{url:?} is not an http(s) URL"),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn subgraph_timeout(&self, name: &str) -> Duration {
        let ms = self
            .subgraphs
            .get(name)
            .and_then(|s| s.timeout_ms)
            .unwrap_or(self.timeouts.subgraph_ms);
        Duration::from_millis(ms)
    }

    /// Whether identical in-flight query requests to this subgraph share one call.
    pub fn subgraph_dedupe(&self, name: &str) -> bool {
        self.subgraphs
            .get(name)
            .and_then(|s| s.dedupe)
            .unwrap_or(self.dedupe.subgraph_requests)
    }
}

/// Origins as a list (the file) or as one comma-separated string (the variable).
fn list_or_comma_separated<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Origins {
        List(Vec<String>),
        CommaSeparated(String),
    }
    let list = match Origins::deserialize(deserializer)? {
        Origins::List(list) => list,
        Origins::CommaSeparated(text) => text.split(',').map(str::to_string).collect(),
    };
    Ok(list
        .iter()
        .map(|origin| origin.trim())
        .filter(|origin| !origin.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(source: Source) -> Result<RouterConfig, ConfigError> {
        RouterConfig::load(&source, ["reviews", "shipping-eu"])
    }

    #[test]
    fn env_overrides_file_defaults_and_bad_values_name_the_setting() {
        let config = load(
            Source::isolated()
                .set("ROUTER_LISTEN", "0.0.0.0:5000")
                .set(
                    "ROUTER_CORS_ALLOW_ORIGINS",
                    "https://a.example, https://b.example,",
                )
                .set("ROUTER_RATE_LIMIT_QUERIES_PER_SECOND", "2.5")
                .set("ROUTER_SAFELIST", "all")
                .set("ROUTER_DEDUPE_CLIENT_REQUESTS", "false")
                .set(
                    "ROUTER_SUBGRAPH_SHIPPING_EU_URL",
                    "https://eu.example/graphql",
                ),
        )
        .unwrap();
        assert_eq!(config.listen.port(), 5000);
        assert_eq!(
            config.cors_allow_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.rate_limits.queries_per_second, 2.5);
        assert_eq!(config.persisted.safelist, Safelist::All);
        assert!(!config.dedupe.client_requests);
        assert_eq!(
            config.subgraphs["shipping-eu"].url.as_deref(),
            Some("https://eu.example/graphql")
        );

        let err = load(Source::isolated().set("ROUTER_MAX_DEPTH", "deep")).unwrap_err();
        assert!(err.to_string().starts_with("ROUTER_MAX_DEPTH: "), "{err}");

        let err = load(Source::isolated().set("ROUTER_MAX_DEPTH", "0")).unwrap_err();
        assert!(err.to_string().contains("limits.max_depth"), "{err}");

        let err = load(Source::isolated().set("ROUTER_SAFELIST", "everyone")).unwrap_err();
        assert!(err.to_string().starts_with("ROUTER_SAFELIST: "), "{err}");
    }

    #[test]
    fn the_file_sets_what_the_environment_does_not() {
        let path = std::env::temp_dir().join(format!("router-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "cors_allow_origins = [\"https://shop.example\"]\n\
             [limits]\nmax_depth = 12\n\
             [subgraphs.reviews]\nurl = \"http://reviews:4008/graphql\"\ntimeout_ms = 5000\n",
        )
        .unwrap();
        let config = load(Source::isolated().with_toml_file(&path).set(
            "ROUTER_SUBGRAPH_REVIEWS_URL",
            "http://reviews.internal/graphql",
        ))
        .unwrap();
        assert_eq!(config.cors_allow_origins, ["https://shop.example"]);
        assert_eq!(config.limits.max_depth, 12);
        assert_eq!(config.limits.max_aliases, Limits::default().max_aliases);
        assert_eq!(
            config.subgraphs["reviews"].url.as_deref(),
            Some("http://reviews.internal/graphql")
        );
        assert_eq!(config.subgraph_timeout("reviews"), Duration::from_secs(5));

        std::fs::write(&path, "[limits]\nmax_dept = 12\n").unwrap();
        let err = load(Source::isolated().with_toml_file(&path)).unwrap_err();
        assert!(err.to_string().contains("max_dept"), "{err}");
        std::fs::remove_file(path).ok();
    }
}
