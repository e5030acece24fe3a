//! A certificate authority made for a test (feature `testing`): a CA and a certificate for
//! `localhost` it signed, as PEM for files and as a rustls server configuration, for tests that
//! start a TLS server and check who trusts it.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct TestCa {
    /// The CA's certificate: what a client's CA file holds.
    pub ca_pem: String,
    /// The server's certificate for `localhost`, signed by the CA, and its key.
    pub certificate_pem: String,
    pub key_pem: String,
    certificate_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("a self-signed CA");
        let key = KeyPair::generate().expect("a key");
        let certificate = CertificateParams::new(vec!["localhost".to_string()])
            .expect("server parameters")
            .signed_by(&key, &ca, &ca_key)
            .expect("a certificate signed by the CA");
        Self {
            ca_pem: ca.pem(),
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            certificate_der: certificate.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }

    /// A TLS server configuration presenting the `localhost` certificate.
    pub fn server_config(&self) -> rustls::ServerConfig {
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![self.certificate_der.clone().into()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
        )
        .expect("the certificate and its key")
    }

    /// Writes `contents` (one of the PEMs) to a new temporary file named after `name`.
    pub fn write(name: &str, contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("{}-{name}", primitives::id::new_id("tls")));
        std::fs::write(&path, contents).expect("a temporary file");
        path
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
