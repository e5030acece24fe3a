//! `https://` subgraphs: the router verifies the subgraph's certificate against the web roots and
//! `subgraph_ca_file`; one it cannot verify is an error naming the subgraph, not a dead router.

use web::test_ca::TestCa;

use crate::common::{fixture, fixtures_dir, TestGateway};
use crate::shop::shop_resolvers;

/// A test CA's PEM, and a server configuration for `localhost` with a certificate it signed.
fn test_ca() -> (String, rustls::ServerConfig) {
    let ca = TestCa::new();
    (ca.ca_pem.clone(), ca.server_config())
}

/// The shop fixture with its products subgraph served over TLS; the router trusts `ca_file`.
async fn gateway_with_tls_products(ca_file: Option<std::path::PathBuf>) -> TestGateway {
    let (_, server) = test_ca_cached();
    let dir = fixtures_dir().join("shop");
    let subgraphs = fixture::load_case(&dir, &shop_resolvers());
    let products = subgraphs
        .iter()
        .find(|s| s.name == "products")
        .unwrap()
        .clone();
    let https = fixture::serve_tls(products, server).await;
    let supergraph = std::fs::read_to_string(dir.join("supergraph.graphql")).unwrap();
    TestGateway::start_subgraphs(subgraphs, &supergraph, move |config| {
        config.subgraphs.get_mut("products").unwrap().url = Some(https);
        config.subgraph_ca_file = ca_file;
    })
    .await
}

/// One CA per test process, its PEM written to a file once.
fn test_ca_cached() -> (std::path::PathBuf, rustls::ServerConfig) {
    static CA: std::sync::OnceLock<(std::path::PathBuf, rustls::ServerConfig)> =
        std::sync::OnceLock::new();
    CA.get_or_init(|| {
        let (pem, server) = test_ca();
        let path = std::env::temp_dir().join(format!("router-test-ca-{}.pem", std::process::id()));
        std::fs::write(&path, pem).unwrap();
        (path, server)
    })
    .clone()
}

#[tokio::test]
async fn an_https_subgraph_with_a_certificate_from_the_configured_ca_is_reached() {
    let (ca_file, _) = test_ca_cached();
    let gw = gateway_with_tls_products(Some(ca_file)).await;
    let response = gw.query("{ topProducts(first: 2) { upc name } }").await;
    assert!(response.get("errors").is_none(), "{response:?}");
    assert_eq!(response["data"]["topProducts"][0]["upc"], "p1");
}

#[tokio::test]
async fn an_https_subgraph_whose_certificate_does_not_verify_is_a_clear_error() {
    let gw = gateway_with_tls_products(None).await;
    let response = gw.query("{ topProducts(first: 2) { upc name } }").await;
    let error = &response["errors"][0];
    assert_eq!(
        error["extensions"]["serviceName"], "products",
        "{response:?}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("products") && message.contains("TLS certificate was refused"),
        "{message}"
    );
    // The router still serves what does not need that subgraph.
    let me = gw.query("{ me { name } }").await;
    assert!(me["data"]["me"]["name"].is_string(), "{me:?}");
}
