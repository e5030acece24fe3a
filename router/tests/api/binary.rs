//! The `router` binary: configuration errors name the setting; subgraph URLs come from the
//! environment; it serves and stops on SIGTERM.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::fixture::{load_case, serve};
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
async fn serves_subgraphs_named_by_environment_and_stops_gracefully_on_sigterm() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut command = router();
    command.env("ROUTER_LISTEN", format!("127.0.0.1:{port}"));
    // The supergraph's URLs are placeholders; ROUTER_SUBGRAPH_<NAME>_URL points at the fixtures.
    let subgraphs = load_case(&fixtures_dir().join("shop"), &HashMap::new());
    for subgraph in subgraphs {
        let url = serve(subgraph.clone()).await;
        command.env(
            format!("ROUTER_SUBGRAPH_{}_URL", subgraph.name.to_uppercase()),
            url,
        );
    }
    let mut child = command.spawn().unwrap();
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
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ me { name } latestReviews { id } }"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        answer.starts_with(r#"{"data":{"me":{"name":"Ada Lovelace"},"latestReviews":[{"id":"r1"}"#),
        "{answer}"
    );
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}
