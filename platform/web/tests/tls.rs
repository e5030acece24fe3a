//! `https://` calls between the shop's services: our HTTP client trusts the web's roots and the
//! certificates of a configured CA file; a server whose certificate does not verify is refused
//! with the reason, and a CA file that cannot be used is named at start-up. The OTLP span
//! exporter (telemetry) reaches an `https://` collector the same way.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use telemetry::otlp::{span_exporter, OtlpSettings};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_rustls::TlsAcceptor;
use web::test_ca::TestCa;

/// A test CA's PEM, and a server configuration for `localhost` with a certificate it signed.
fn test_ca() -> (String, rustls::ServerConfig) {
    let ca = TestCa::new();
    (ca.ca_pem.clone(), ca.server_config())
}

/// Serves `hello` over TLS on a free port; returns its `https://localhost:<port>/` URL and the
/// requests it answered (`POST /v1/traces application/x-protobuf`).
async fn serve_tls(server: rustls::ServerConfig) -> (String, UnboundedReceiver<String>) {
    let (seen, requests) = tokio::sync::mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(Arc::new(server));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let hello = service_fn(|request: hyper::Request<Incoming>| {
                    let content_type = request
                        .headers()
                        .get(http::header::CONTENT_TYPE)
                        .map(|v| v.to_str().unwrap_or_default().to_string())
                        .unwrap_or_default();
                    let line = format!("{} {} {content_type}", request.method(), request.uri());
                    let _ = seen.send(line.trim_end().to_string());
                    async { Ok::<_, Infallible>(hyper::Response::new("hello".to_string())) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), hello)
                    .await;
            });
        }
    });
    (format!("https://localhost:{port}/"), requests)
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    TestCa::write(name, contents)
}

#[tokio::test]
async fn a_service_with_a_certificate_from_the_configured_ca_is_reached() {
    let (ca, server) = test_ca();
    let (url, _) = serve_tls(server).await;
    let ca_file = temp_file("ca.pem", &ca);
    let client = web::client::http_client_trusting(Some(&ca_file)).unwrap();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused_with_the_reason() {
    let (_, server) = test_ca();
    let (url, _) = serve_tls(server).await;
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

/// Exports one span through an exporter for `settings` and waits for the export's outcome.
fn export_one_span(settings: &OtlpSettings) -> Result<(), String> {
    let exporter = span_exporter(settings).map_err(|e| e.to_string())?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    provider.tracer("tls-test").in_span("checkout", |_| {});
    let flushed = provider.force_flush().map_err(|e| e.to_string());
    let _ = provider.shutdown();
    flushed
}

#[tokio::test]
async fn spans_reach_an_https_collector_whose_certificate_is_from_the_configured_ca() {
    let (ca, server) = test_ca();
    let (url, mut requests) = serve_tls(server).await;
    let settings = OtlpSettings {
        endpoint: Some(format!("{url}v1/traces")),
        ca_file: Some(temp_file("collector-ca.pem", &ca)),
    };
    // The exporter blocks while it sends, as on the batch processor's own thread.
    let exported = tokio::task::spawn_blocking(move || export_one_span(&settings))
        .await
        .unwrap();
    exported.unwrap();
    assert_eq!(
        requests.recv().await.unwrap(),
        "POST /v1/traces application/x-protobuf"
    );

    // Without the CA the collector is not trusted: the export fails before anything is sent
    // (the exporter's own error says only "network error"; a warning gives the reason).
    let (_, server) = test_ca();
    let (url, mut requests) = serve_tls(server).await;
    let settings = OtlpSettings {
        endpoint: Some(format!("{url}v1/traces")),
        ca_file: None,
    };
    let error = tokio::task::spawn_blocking(move || export_one_span(&settings))
        .await
        .unwrap()
        .unwrap_err();
    assert!(error.contains("export failed"), "{error}");
    assert!(requests.try_recv().is_err(), "nothing was served");

    let error = span_exporter(&OtlpSettings {
        endpoint: Some(format!("{url}v1/traces")),
        ca_file: Some(std::env::temp_dir().join("no-such-collector-ca.pem")),
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("no-such-collector-ca.pem"),
        "{error}"
    );
}
