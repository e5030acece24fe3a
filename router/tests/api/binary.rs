//! The `router` binary: configuration errors name the setting; it serves and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::fixtures_dir;

fn router() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_router"));
    command
        .arg("--supergraph")
        .arg(fixtures_dir().join("shop/supergraph.graphql"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn a_bad_setting_stops_start_up_with_its_name() {
    let output = router().env("ROUTER_MAX_DEPTH", "deep").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ROUTER_MAX_DEPTH"), "{stderr}");

    let output = router()
        .arg("--config")
        .arg("/nonexistent/router.toml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/router.toml"));
}

#[tokio::test]
async fn serves_health_and_stops_gracefully_on_sigterm() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = router()
        .env("ROUTER_LISTEN", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    // The router logs "router listening" once its socket is bound.
    let stdout = child.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("router listening"))
    });
    let ready = tokio::time::timeout(Duration::from_secs(30), ready).await;
    assert!(matches!(ready, Ok(Ok(true))), "the router started");
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert!(health.status().is_success());
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
