//! `https://` calls between the shop's services: our HTTP client trusts the web's roots and the
//! certificates of a configured CA file; a server whose certificate does not verify is refused
//! with the reason, and a CA file that cannot be used is named at start-up.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A test CA's PEM, and a server configuration for `localhost` with a certificate it signed.
fn test_ca() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certificate.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    (ca.pem(), server)
}

/// Serves `hello` over TLS on a free port; returns its `https://localhost:<port>/` URL.
async fn serve_tls(server: rustls::ServerConfig) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(Arc::new(server));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let hello = service_fn(|_| async {
                    Ok::<_, Infallible>(hyper::Response::new("hello".to_string()))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), hello)
                    .await;
            });
        }
    });
    format!("https://localhost:{port}/")
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}", primitives::id::new_id("tls")));
    std::fs::write(&path, contents).unwrap();
    path
}

#[tokio::test]
async fn a_service_with_a_certificate_from_the_configured_ca_is_reached() {
    let (ca, server) = test_ca();
    let url = serve_tls(server).await;
    let ca_file = temp_file("ca.pem", &ca);
    let client = web::client::http_client_trusting(Some(&ca_file)).unwrap();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused_with_the_reason() {
    let (_, server) = test_ca();
    let url = serve_tls(server).await;
    // Only the web's roots: the test CA is not among them.
    let error = web::client::http_client()
        .get(&url)
        .send()
        .await
        .unwrap_err();
    let reason = web::client::with_causes(&error);
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // Another CA's file does not help either.
    let (other_ca, _) = test_ca();
    let other = temp_file("other-ca.pem", &other_ca);
    let client = web::client::http_client_trusting(Some(&other)).unwrap();
    let reason = web::client::with_causes(&client.get(&url).send().await.unwrap_err());
    assert!(reason.contains("invalid peer certificate"), "{reason}");
}

#[test]
fn a_ca_file_that_cannot_be_used_is_named() {
    let missing = std::env::temp_dir().join("no-such-ca.pem");
    let error = web::client::http_client_trusting(Some(&missing)).unwrap_err();
    assert!(error.to_string().starts_with("CA file "), "{error}");
    assert!(error.to_string().contains("no-such-ca.pem"), "{error}");
    let empty = temp_file("empty-ca.pem", "not a certificate\n");
    let error = web::client::http_client_trusting(Some(&empty)).unwrap_err();
    assert!(error.to_string().contains("no PEM certificate"), "{error}");
}
