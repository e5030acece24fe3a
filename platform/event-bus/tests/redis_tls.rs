//! The bus over `rediss://`: a Redis whose certificate comes from a private CA is reached with
//! that CA's file (`TLS_CA_FILE`), and refused without it. The Redis is a real `redis-server`
//! listening for TLS only, with a certificate from a CA made for the test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use event_bus::{Event, Fact};
use serde::{Deserialize, Serialize};
use web::test_ca::TestCa;

#[derive(Serialize, Deserialize)]
struct Paid {
    order_id: String,
}

impl Fact for Paid {
    const TOPIC: &'static str = "test.paid";
    const VERSION: u32 = 1;
    fn aggregate_id(&self) -> String {
        self.order_id.clone()
    }
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    TestCa::write(name, contents)
}

/// `redis-server` with TLS only on a free port, stopped when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
}

impl TlsRedis {
    /// Starts it and returns once it says it accepts connections.
    fn start(ca: &TestCa) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(temp_file("redis.crt", &ca.certificate_pem))
            .arg("--tls-key-file")
            .arg(temp_file("redis.key", &ca.key_pem))
            .arg("--tls-ca-cert-file")
            .arg(temp_file("ca.crt", &ca.ca_pem))
            .stdout(Stdio::piped())
            .spawn()
            .expect("redis-server runs (it is installed where the tests run)");
        // Stopped by `Drop` from here on, also when it never gets ready.
        let mut redis = Self { child, port };
        let output = BufReader::new(redis.child.stdout.take().unwrap());
        let mut said = Vec::new();
        for line in output.lines().map_while(Result::ok) {
            if line.contains("Ready to accept connections") {
                return redis;
            }
            said.push(line);
        }
        panic!(
            "redis-server stopped before it was ready:\n{}",
            said.join("\n")
        );
    }

    fn url(&self) -> String {
        format!("rediss://localhost:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_redis_with_a_certificate_from_the_configured_ca_is_reached_and_refused_without_it() {
    let ca = TestCa::new();
    let redis = TlsRedis::start(&ca);
    let ca_file = temp_file("ca.pem", &ca.ca_pem);

    let bus = event_bus::connect(&redis.url(), "tls-test", Some(&ca_file))
        .await
        .unwrap();
    bus.subscribe(Paid::TOPIC, "tls-test").await.unwrap();
    let paid = Paid {
        order_id: "o1".into(),
    };
    bus.publish(&Event::new("orders", &paid)).await.unwrap();
    let backlog = bus.backlog(Paid::TOPIC, "tls-test").await.unwrap();
    assert_eq!(backlog, 1, "the event went over TLS into the stream");

    // The system's roots do not hold the test CA.
    let refused = event_bus::connect(&redis.url(), "tls-test", None).await;
    let error = refused.err().expect("an unknown CA is refused").to_string();
    assert!(error.contains("certificate"), "{error}");

    let missing = std::env::temp_dir().join("no-such-redis-ca.pem");
    let refused = event_bus::connect(&redis.url(), "tls-test", Some(&missing)).await;
    let error = refused.err().expect("a missing CA file").to_string();
    assert!(error.contains("no-such-redis-ca.pem"), "{error}");
}
