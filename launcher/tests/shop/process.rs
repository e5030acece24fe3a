//! Processes of a production deployment started from the shop binary (`shop orders serve`,
//! `shop payment-test-provider`, ...), for tests that kill them: each is started and awaited
//! until it logs that it listens, killed with SIGKILL, and started again with the same settings.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::client::TestShop;

pub struct Process {
    pub label: String,
    args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// What it logs once it serves.
    ready: String,
    child: Option<Child>,
}

impl Process {
    pub fn new(label: &str, args: &[&str], env: Vec<(String, String)>, ready: &str) -> Self {
        Self {
            label: label.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env,
            ready: ready.into(),
            child: None,
        }
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
        command
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info,sqlx=warn")
            .kill_on_drop(true);
        command
    }

    /// Starts it and returns once it logs that it is ready; afterwards its errors go on to the
    /// test's output.
    pub async fn start(&mut self) {
        let mut child = self
            .command(&self.args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the shop binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (label, ready) = (self.label.clone(), self.ready.clone());
        let started = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains(&ready) {
                    return;
                }
                if line.contains("ERROR") {
                    println!("{label}: {line}");
                }
            }
            panic!("{label} ended before it was ready");
        };
        tokio::time::timeout(Duration::from_secs(60), started)
            .await
            .unwrap_or_else(|_| panic!("{} is ready within 60 s", self.label));
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("ERROR") {
                    println!("{label}: {line}");
                }
            }
        });
        self.child = Some(child);
    }

    /// SIGKILL: nothing of it gets to finish.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// SIGTERM, as Kubernetes stops a pod; returns once it has exited.
    pub async fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().expect("a running child has a pid");
            let sent = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await
                .unwrap();
            assert!(sent.success(), "kill -TERM {pid}");
            tokio::time::timeout(Duration::from_secs(60), child.wait())
                .await
                .expect("it exits within 60 s of SIGTERM")
                .unwrap();
        }
    }

    /// Runs one of its commands (e.g. `orders reconcile --dry-run`) to the end; its output.
    // The chaos binary runs commands; the shop binary, which shares this file, does not.
    #[allow(dead_code)]
    pub async fn run(&self, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let output = self.command(&args).output().await.unwrap();
        assert!(
            output.status.success(),
            "{} {args:?}: {}",
            self.label,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// A port free now for a process to listen on, below the kernel's range of ephemeral ports: an
/// ephemeral one could be given to an outgoing connection while the process is not yet
/// listening, or killed and about to restart, and then its listener could not bind.
pub async fn free_port() -> u16 {
    const LOWEST: u32 = 10_000;
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let span = ephemeral_from.saturating_sub(LOWEST).max(1);
    // Tests pick ports at once: each starts at a place of its own and walks on.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    for step in 0..span {
        let port = LOWEST + (start.wrapping_add(step)) % span;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port as u16)).await {
            return listener.local_addr().unwrap().port();
        }
    }
    panic!("no free port below {ephemeral_from}")
}

/// A service API client of the shop's accounts for a process of `name`: its settings.
pub async fn client_settings(shop: &TestShop, name: &str) -> Vec<(String, String)> {
    let accounts = shop.shop.subgraph::<accounts::Accounts>();
    let (client, secret) = accounts
        .service
        .register_client(
            &format!("{name}-process"),
            accounts::ClientKind::Service,
            &[auth::SERVICE_SCOPE.to_string()],
        )
        .await
        .unwrap();
    let prefix = name.to_uppercase();
    let accounts_address = shop.shop.address("accounts");
    let events = shop.events();
    vec![
        (format!("{prefix}_CLIENT_ID"), client.id),
        (format!("{prefix}_CLIENT_SECRET"), secret),
        (
            "JWKS_URL".into(),
            format!("http://{accounts_address}/.well-known/jwks.json"),
        ),
        (
            "ACCOUNTS_TOKEN_URL".into(),
            format!("http://{accounts_address}/oauth/token"),
        ),
        ("EVENTS_URL".into(), events.url),
        ("EVENTS_NAMESPACE".into(), events.namespace),
        (
            "ROUTER_SUBGRAPH_SECRET".into(),
            shop.shop.router_config.subgraph_secret.clone().unwrap(),
        ),
    ]
}
