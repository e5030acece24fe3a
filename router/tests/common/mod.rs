//! Test harness: fixture subgraphs on random ports and the real router in front of them.
#![allow(dead_code)]

pub mod fixture;
pub mod gateway_bench;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use apollo_compiler::response::JsonValue;
use router::config::{RouterConfig, SubgraphConfig};
use router::App;

use fixture::{FixtureSubgraph, Resolver};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub struct TestGateway {
    pub url: String,
    /// The running router's shared state (its deduplication counters).
    pub state: Arc<router::AppState>,
    pub subgraphs: HashMap<String, Arc<FixtureSubgraph>>,
    client: reqwest::Client,
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub body: JsonValue,
}

impl TestGateway {
    pub async fn start(case: &str) -> Self {
        Self::start_with(case, HashMap::new(), |_| {}).await
    }

    pub async fn start_with(
        case: &str,
        resolvers: HashMap<String, Resolver>,
        configure: impl FnOnce(&mut RouterConfig),
    ) -> Self {
        let dir = fixtures_dir().join(case);
        let subgraphs = fixture::load_case(&dir, &resolvers);
        let supergraph = std::fs::read_to_string(dir.join("supergraph.graphql"))
            .expect("the case has a composed supergraph.graphql");
        Self::start_subgraphs(subgraphs, &supergraph, configure).await
    }

    /// A case's router serving `site` beside the API (`App::with_site`).
    pub async fn start_with_site(case: &str, site: axum::Router) -> Self {
        let dir = fixtures_dir().join(case);
        let subgraphs = fixture::load_case(&dir, &HashMap::new());
        let supergraph = std::fs::read_to_string(dir.join("supergraph.graphql"))
            .expect("the case has a composed supergraph.graphql");
        Self::launch(subgraphs, &supergraph, |_| {}, Some(site)).await
    }

    pub async fn start_subgraphs(
        subgraphs: Vec<Arc<FixtureSubgraph>>,
        supergraph: &str,
        configure: impl FnOnce(&mut RouterConfig),
    ) -> Self {
        Self::launch(subgraphs, supergraph, configure, None).await
    }

    async fn launch(
        subgraphs: Vec<Arc<FixtureSubgraph>>,
        supergraph: &str,
        configure: impl FnOnce(&mut RouterConfig),
        site: Option<axum::Router>,
    ) -> Self {
        let mut config = RouterConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..RouterConfig::default()
        };
        let mut by_name = HashMap::new();
        for subgraph in subgraphs {
            let url = fixture::serve(subgraph.clone()).await;
            config.subgraphs.insert(
                subgraph.name.clone(),
                SubgraphConfig {
                    url: Some(url),
                    timeout_ms: None,
                    dedupe: None,
                },
            );
            by_name.insert(subgraph.name.clone(), subgraph);
        }
        configure(&mut config);
        let mut app = App::build(config, supergraph).await.expect("router starts");
        if let Some(site) = site {
            app = app.with_site(site);
        }
        let url = format!("http://{}/graphql", app.local_addr());
        let state = app.state();
        tokio::spawn(async move { app.run().await.unwrap() });
        Self {
            url,
            state,
            subgraphs: by_name,
            client: reqwest::Client::new(),
        }
    }

    pub fn subgraph(&self, name: &str) -> &FixtureSubgraph {
        &self.subgraphs[name]
    }

    /// The request bodies a subgraph received so far (a copy: no lock is held afterwards).
    pub fn requests_to(&self, name: &str) -> Vec<JsonValue> {
        self.subgraphs[name].requests.lock().unwrap().clone()
    }

    /// Subgraph name -> requests received so far.
    pub fn request_counts(&self) -> HashMap<String, usize> {
        self.subgraphs
            .iter()
            .map(|(name, s)| (name.clone(), s.requests()))
            .collect()
    }

    pub async fn query(&self, query: &str) -> JsonValue {
        self.query_with(query, serde_json_bytes::json!({})).await
    }

    pub async fn query_with(&self, query: &str, variables: JsonValue) -> JsonValue {
        let body = serde_json_bytes::json!({"query": query, "variables": variables});
        self.post_json(&body).await.body
    }

    pub async fn post_json(&self, body: &JsonValue) -> RawResponse {
        self.post_raw(
            serde_json::to_vec(body).unwrap(),
            &[("content-type", "application/json")],
        )
        .await
    }

    pub async fn post_raw(&self, body: Vec<u8>, headers: &[(&str, &str)]) -> RawResponse {
        let mut request = self.client.post(&self.url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, query_string: &str, headers: &[(&str, &str)]) -> RawResponse {
        let mut request = self.client.get(format!("{}?{query_string}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::read(request.send().await.unwrap()).await
    }

    async fn read(response: reqwest::Response) -> RawResponse {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| JsonValue::from(String::from_utf8_lossy(&bytes).to_string()));
        RawResponse {
            status,
            content_type,
            body,
        }
    }
}

/// A resolver from a plain function, for `start_with`.
pub fn resolver(
    f: impl Fn(&fixture::FieldCall<'_>) -> Option<Result<JsonValue, String>> + Send + Sync + 'static,
) -> Resolver {
    Arc::new(f)
}
