//! The public gateway benchmark's workload (graphql-hive/graphql-gateways-benchmark): four
//! subgraphs (accounts, inventory, products, reviews) of the same shape, its deep `TestQuery`
//! with a response of about 88 KB (`tests/common/gateway_bench.rs`), and 50 concurrent clients.
//!
//! The subgraphs are fixtures with generated data that answer from memory, served by a process
//! of their own (this bench's binary, started as a child), as the public benchmark runs them:
//! in the bench's process they shared a runtime with the load generator, where their answers
//! could wait behind its reading of fifty 88 KB responses. The router runs as its own process (the
//! `router` binary), so that its CPU time and peak memory are its own. For each deduplication
//! mode the router is started afresh, and the bench prints requests per second, p50/p99
//! latency, router CPU milliseconds per request and peak RSS, and the subgraphs' CPU per
//! request.
//!
//! Settings (environment):
//! - `BENCH_SECONDS` (30) per round, `BENCH_ROUNDS` (2), `BENCH_CONCURRENCY` (50);
//! - `BENCH_MODE`: `off` (no deduplication), `subgraph` (identical in-flight subgraph requests
//!   share a call), `client` (identical in-flight client requests share an execution, and
//!   subgraph requests too, as in the benchmark's Hive configuration), or unset for all three
//!   (demand control off in all, as in Hive's configuration); `edge` instead runs the client
//!   mode twice, with the router's edge off and on: persisted queries (each request sends the
//!   APQ hash alone), cost analysis (with a maximum the query stays under) and rate limiting
//!   (a limit never reached, the buckets in Redis at 127.0.0.1:6379 as in production), so
//!   that the difference is the edge's cost;
//! - `BENCH_WARMUP_SECONDS` (2; 0 with `BENCH_REQUESTS`): load sent to each router before the
//!   first round and not measured, so that no router's first round also pays for its warming
//!   up (connections, allocator arenas, caches);
//! - `BENCH_REQUESTS`: a fixed number of requests per round instead of `BENCH_SECONDS`, and
//!   `BENCH_ROUTER_WRAPPER`: a command our router runs under, for instruction counts that do
//!   not vary with machine noise, e.g.
//!   `BENCH_ROUTER_WRAPPER="valgrind --tool=callgrind --callgrind-out-file=target/cg.out"`;
//! - `BENCH_SUBGRAPH_PORT_BASE`: put the subgraphs on fixed ports (accounts, inventory,
//!   products, reviews from that port on); the supergraph with their URLs is written to
//!   `target/gateway-bench-supergraph.graphql` either way;
//! - `BENCH_COMPARE`: other routers, started by the caller on that supergraph with the same
//!   deduplication setting as `BENCH_MODE`, as `label=url=pid` entries separated by commas (the
//!   process id adds its CPU and peak RSS); their answers must equal ours, and their rounds
//!   interleave with ours, each round starting with the next router (measured first in every
//!   round, ours came out about 5 % below a copy of the same build measured after it). After each
//!   mode the bench prints ours over each of theirs.
//!   `router/benches/compare_hive.sh` does all of it for Hive Router (logging at warn, and at
//!   info as the benchmark's own configuration has it), with the configurations in
//!   `router/benches/hive/`.
//!
//! - `BENCH_LOAD=wrk`: send the load with wrk (`wrk -t2 --latency`, as the public benchmark
//!   does) instead of the bench's own client (reqwest on this process's runtime). On the
//!   2-core machine the load generator shares the cores with the routers, and wrk spends about
//!   0.016 ms of CPU per request where the bench's client spends about 0.04, so with wrk more
//!   of the machine goes to the router measured. wrk reports latency percentiles of its own
//!   (from its histogram); a round with any non-2xx answer fails. Needs `wrk` on `PATH` and
//!   `BENCH_SECONDS` (not `BENCH_REQUESTS`).
//!
//! - `BENCH_FLOOR=1`: also measure a process that answers every request at once with our
//!   router's answer bytes (axum on hyper, as ours): no router can do better on this machine
//!   with this load generator, since what it is left with is HTTP and the kernel's copies.
//!
//! Every round also prints the subgraph calls and the subgraph process's CPU per client request:
//! what deduplication saved.

#[path = "../tests/common/fixture.rs"]
mod fixture;
#[path = "../tests/common/gateway_bench.rs"]
mod gateway_bench;
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::response::JsonValue;
use bytes::Bytes;
use fixture::FixtureSubgraph;
use gateway_bench::{subgraph_data, TEST_QUERY, TOP_PRODUCTS, USERS};
use serde_json_bytes::json;
use support::{env_number, load_until, post, Until};

/// What sends the load (`BENCH_LOAD`), each request with the same body.
enum LoadGenerator {
    /// The bench's own closed loop of reqwest clients.
    Builtin {
        client: reqwest::Client,
        body: Bytes,
    },
    /// wrk, with a script that posts the body from a file.
    Wrk { script: PathBuf },
}

/// What the load generator saw in a round.
struct Load {
    requests: usize,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl LoadGenerator {
    fn from_env(client: &reqwest::Client, body: &Bytes, target: &Path) -> Self {
        match std::env::var("BENCH_LOAD").as_deref() {
            Ok("wrk") => {
                let body_file = target.join("gateway-bench-wrk-body.json");
                std::fs::write(&body_file, body).unwrap();
                let script = target.join("gateway-bench-wrk.lua");
                let lua = format!(
                    "local file = io.open({:?}, \"rb\")\nwrk.method = \"POST\"\n\
                     wrk.headers[\"Content-Type\"] = \"application/json\"\n\
                     wrk.body = file:read(\"*a\")\nfile:close()\n",
                    body_file.display().to_string()
                );
                std::fs::write(&script, lua).unwrap();
                LoadGenerator::Wrk { script }
            }
            Ok("builtin") | Err(_) => LoadGenerator::Builtin {
                client: client.clone(),
                body: body.clone(),
            },
            Ok(other) => panic!("BENCH_LOAD must be builtin or wrk, not {other:?}"),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            LoadGenerator::Builtin { .. } => "the bench's own client",
            LoadGenerator::Wrk { .. } => "wrk -t2",
        }
    }

    async fn run(&self, url: &str, concurrency: usize, until: Until) -> Load {
        match self {
            LoadGenerator::Builtin { client, body } => {
                let (client, url, body) = (client.clone(), url.to_string(), body.clone());
                let mut stats = load_until(concurrency, until, move || {
                    let (client, url, body) = (client.clone(), url.clone(), body.clone());
                    async move {
                        post(&client, &url, body).await;
                    }
                })
                .await;
                Load {
                    requests: stats.requests,
                    requests_per_second: stats.requests_per_second(),
                    p50_ms: stats.percentile_ms(0.50),
                    p99_ms: stats.percentile_ms(0.99),
                }
            }
            LoadGenerator::Wrk { script } => {
                let Until::Elapsed(duration) = until else {
                    panic!("BENCH_LOAD=wrk runs for BENCH_SECONDS, not BENCH_REQUESTS");
                };
                let mut command = Command::new("wrk");
                command
                    .args(["-t2", "--latency", "-c"])
                    .arg(concurrency.to_string())
                    .arg("-d")
                    // wrk takes whole seconds (or minutes, hours).
                    .arg(format!("{}s", duration.as_secs().max(1)))
                    .arg("-s")
                    .arg(script)
                    .arg(url);
                let output = tokio::task::spawn_blocking(move || command.output())
                    .await
                    .unwrap()
                    .expect("wrk runs (BENCH_LOAD=wrk needs it on PATH)");
                let report = String::from_utf8_lossy(&output.stdout);
                assert!(output.status.success(), "wrk failed: {report}");
                parse_wrk_report(&report)
            }
        }
    }
}

/// Requests, rate and latency percentiles from wrk's `--latency` report; a round with answers
/// other than 2xx fails (wrk counts them as requests).
fn parse_wrk_report(report: &str) -> Load {
    assert!(
        !report.contains("Non-2xx"),
        "answers other than 2xx: {report}"
    );
    let value_after = |label: &str| -> &str {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label:?} in wrk's report: {report}"))
            .split_whitespace()
            .next()
            .unwrap()
    };
    let milliseconds = |value: &str| -> f64 {
        let unit_at = value.find(|c: char| c.is_ascii_alphabetic()).unwrap();
        let (number, unit) = value.split_at(unit_at);
        let number: f64 = number.parse().unwrap();
        match unit {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            "m" => number * 60_000.0,
            _ => panic!("a latency unit wrk does not print: {value}"),
        }
    };
    let requests = report
        .lines()
        .find(|line| line.contains(" requests in "))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's report: {report}"));
    Load {
        requests,
        requests_per_second: value_after("Requests/sec:").parse().unwrap(),
        p50_ms: milliseconds(value_after("50%")),
        p99_ms: milliseconds(value_after("99%")),
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One deduplication setting (and the edge's), as our router's environment.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Off,
    Subgraph,
    Client,
    EdgeOff,
    EdgeOn,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Subgraph => "subgraph",
            Mode::Client => "client",
            Mode::EdgeOff => "client, edge off",
            Mode::EdgeOn => "client, edge on (APQ, cost, rate limits in Redis)",
        }
    }

    fn env(self) -> Vec<(&'static str, String)> {
        let (subgraph, client) = match self {
            Mode::Off => ("false", "false"),
            Mode::Subgraph => ("true", "false"),
            // As in the benchmark's own Hive configuration: subgraph deduplication stays on.
            Mode::Client | Mode::EdgeOff | Mode::EdgeOn => ("true", "true"),
        };
        let mut env = vec![
            ("ROUTER_DEDUPE_SUBGRAPH_REQUESTS", subgraph.to_string()),
            ("ROUTER_DEDUPE_CLIENT_REQUESTS", client.to_string()),
            ("ROUTER_DEMAND_CONTROL", (self == Mode::EdgeOn).to_string()),
        ];
        if self == Mode::EdgeOn {
            let never = "1000000000".to_string();
            env.extend([
                ("ROUTER_MAX_COST", never.clone()),
                ("ROUTER_RATE_LIMITS", "true".to_string()),
                ("ROUTER_RATE_LIMIT_QUERIES_PER_SECOND", never.clone()),
                ("ROUTER_RATE_LIMIT_QUERY_BURST", never),
                ("ROUTER_REDIS_URL", "redis://127.0.0.1:6379".to_string()),
                (
                    "ROUTER_REDIS_NAMESPACE",
                    format!("bench-{}", std::process::id()),
                ),
            ]);
        }
        env
    }

    /// The request body: the query, or with the edge on its APQ hash alone (after one
    /// request registered it).
    fn body(self) -> Bytes {
        let hash = primitives::id::sha256_hex(TEST_QUERY.as_bytes());
        let persisted = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
        let body = match self {
            Mode::EdgeOn => json!({"operationName": "TestQuery", "extensions": persisted}),
            _ => json!({"query": TEST_QUERY, "operationName": "TestQuery"}),
        };
        Bytes::from(serde_json::to_vec(&body).unwrap())
    }

    /// The body that registers the query (APQ) before the hash alone is sent.
    fn registration(self) -> Bytes {
        let hash = primitives::id::sha256_hex(TEST_QUERY.as_bytes());
        Bytes::from(
            serde_json::to_vec(&json!({"query": TEST_QUERY, "operationName": "TestQuery",
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}}))
            .unwrap(),
        )
    }
}

fn modes() -> Vec<Mode> {
    match std::env::var("BENCH_MODE").as_deref() {
        Ok("off") => vec![Mode::Off],
        Ok("subgraph") => vec![Mode::Subgraph],
        Ok("client") => vec![Mode::Client],
        Ok("edge") => vec![Mode::EdgeOff, Mode::EdgeOn],
        Ok(other) if !other.is_empty() => {
            panic!("BENCH_MODE must be off, subgraph, client or edge")
        }
        _ => vec![Mode::Off, Mode::Subgraph, Mode::Client],
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`.
/// CPU time a process has used so far, in user space and in the kernel, from
/// `/proc/<pid>/stat`.
fn cpu_time(pid: u32) -> (Duration, Duration) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process runs");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // USER_HZ is 100 on Linux.
    let ticks = |i: usize| Duration::from_millis(fields[i].parse::<u64>().unwrap() * 10);
    (ticks(11), ticks(12))
}

/// Peak resident memory of a process so far (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// A measured round of one router.
struct Round {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
    cpu_ms_per_request: Option<f64>,
    /// The part of it spent in the kernel (system calls: the sockets).
    system_ms_per_request: Option<f64>,
    peak_rss_mib: Option<f64>,
    subgraph_calls_per_request: f64,
    /// Each subgraph's calls per client request: which stages of the plan shared.
    calls_per_subgraph: Vec<(String, f64)>,
    /// The subgraphs' process's CPU time per client request: what deduplication saved them.
    subgraph_cpu_ms_per_request: f64,
}

impl Round {
    fn print(&self, label: &str) {
        let cpu = self
            .cpu_ms_per_request
            .zip(self.system_ms_per_request)
            .map_or("-".to_string(), |(c, s)| format!("{c:.3} ({s:.3} sys)"));
        let rss = self
            .peak_rss_mib
            .map_or("-".to_string(), |r| format!("{r:.0}"));
        println!(
            "{label:<24} {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  cpu {cpu:>16} ms/req  \
             peak rss {rss:>4} MiB  subgraph calls {:>5.2}/req, cpu {:.3} ms/req  ({} requests)",
            self.requests_per_second,
            self.p50_ms,
            self.p99_ms,
            self.subgraph_calls_per_request,
            self.subgraph_cpu_ms_per_request,
            self.requests,
        );
        let each: Vec<String> = self
            .calls_per_subgraph
            .iter()
            .map(|(name, calls)| format!("{name} {calls:.3}"))
            .collect();
        println!("{:<24} by subgraph: {}", "", each.join(", "));
    }
}

/// Another router measured beside ours.
#[derive(Clone)]
struct Compared {
    label: String,
    url: String,
    pid: Option<u32>,
}

/// `label=url=pid` entries separated by commas (see the module's documentation).
fn compared_routers() -> Vec<Compared> {
    let Ok(list) = std::env::var("BENCH_COMPARE") else {
        return Vec::new();
    };
    list.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let mut parts = entry.trim().splitn(3, '=');
            let label = parts.next().unwrap().to_string();
            let url = parts
                .next()
                .expect("BENCH_COMPARE entries are label=url=pid")
                .to_string();
            let pid = parts.next().and_then(|p| p.parse().ok());
            Compared { label, url, pid }
        })
        .collect()
}

/// `ours` over `theirs`, on the means of the rounds: above 1 is more for `ours`.
fn print_ratios(ours_label: &str, label: &str, ours: &[Round], theirs: &[Round]) {
    fn mean(rounds: &[Round], value: impl Fn(&Round) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = rounds.iter().filter_map(value).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
    let ratio =
        |value: &dyn Fn(&Round) -> Option<f64>| match (mean(ours, value), mean(theirs, value)) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => "-".to_string(),
        };
    println!(
        "{ours_label} / {label}: req/s {}, p99 {}, cpu per request {}, peak rss {}, subgraph calls \
         per request {}, subgraph cpu per request {}",
        ratio(&|r| Some(r.requests_per_second)),
        ratio(&|r| Some(r.p99_ms)),
        ratio(&|r| r.cpu_ms_per_request),
        ratio(&|r| r.peak_rss_mib),
        ratio(&|r| Some(r.subgraph_calls_per_request)),
        ratio(&|r| Some(r.subgraph_cpu_ms_per_request)),
    );
}

/// The fixture subgraphs' process: their names in port order, and where each one's calls so far
/// are read.
struct Subgraphs {
    process: ChildProcess,
    names: Vec<String>,
}

impl Subgraphs {
    /// Starts the process with each subgraph on its port (in `subgraph_data`'s order: accounts,
    /// inventory, products, reviews) and waits until it answers.
    async fn start(subgraphs: &[(&str, u16)], client: &reqwest::Client) -> Self {
        let control = free_port();
        let ports: Vec<String> = subgraphs.iter().map(|(_, port)| port.to_string()).collect();
        let child = Command::new(std::env::current_exe().expect("the bench's own binary"))
            .env(SUBGRAPH_PORTS, ports.join(","))
            .env(CONTROL_PORT, control.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("the subgraphs' process starts");
        let process = ChildProcess::until_healthy(child, control, "calls", client).await;
        Self {
            process,
            names: subgraphs.iter().map(|(name, _)| name.to_string()).collect(),
        }
    }

    /// Each subgraph's calls so far, in port order.
    async fn calls(&self, client: &reqwest::Client) -> Vec<usize> {
        let response = client.get(&self.process.url).send().await;
        response
            .expect("the subgraphs' process answers")
            .json()
            .await
            .expect("a list of counts")
    }
}

/// The subgraphs' process (`BENCH_SUBGRAPH_PORTS`): each fixture subgraph on its port, and on
/// the control port `GET /calls`, each one's calls so far (and `/health`).
async fn serve_subgraphs(fixtures: &Path, ports: &str, control_port: u16) {
    use axum::routing::get;
    let mut subgraphs = Vec::new();
    for ((name, data), port) in subgraph_data().into_iter().zip(ports.split(',')) {
        let sdl = std::fs::read_to_string(fixtures.join(format!("{name}.graphql"))).unwrap();
        let subgraph = Arc::new(FixtureSubgraph::new(name, &sdl, data, None).memoized());
        fixture::serve_on(subgraph.clone(), port.parse().expect("a port")).await;
        subgraphs.push(subgraph);
    }
    let calls = move || {
        let calls: Vec<usize> = subgraphs.iter().map(|s| s.requests()).collect();
        async move { axum::Json(calls) }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", control_port))
        .await
        .unwrap();
    let app = axum::Router::new()
        .route("/calls", get(calls))
        .route("/health", get(|| async { "UP" }));
    axum::serve(listener, app).await.unwrap();
}

async fn measure(
    load: &LoadGenerator,
    client: &reqwest::Client,
    url: &str,
    pid: Option<u32>,
    subgraphs: &Subgraphs,
    concurrency: usize,
    until: Until,
) -> Round {
    let calls_before = subgraphs.calls(client).await;
    let cpu_before = pid.map(cpu_time);
    let subgraph_cpu_before = cpu_time(subgraphs.process.pid());
    let sent = load.run(url, concurrency, until).await;
    let requests = sent.requests as f64;
    let per_request = |amount: f64| amount / requests;
    let ms_per_request = |spent: Duration| per_request(spent.as_secs_f64() * 1000.0);
    let cpu_used = pid.zip(cpu_before).map(|(pid, (user, system))| {
        let (user_now, system_now) = cpu_time(pid);
        (
            ms_per_request(user_now - user + system_now - system),
            ms_per_request(system_now - system),
        )
    });
    let subgraph_cpu = {
        let ((user, system), (user_now, system_now)) =
            (subgraph_cpu_before, cpu_time(subgraphs.process.pid()));
        ms_per_request(user_now - user + system_now - system)
    };
    let calls: Vec<usize> = subgraphs
        .calls(client)
        .await
        .iter()
        .zip(&calls_before)
        .map(|(after, before)| after - before)
        .collect();
    Round {
        requests_per_second: sent.requests_per_second,
        p50_ms: sent.p50_ms,
        p99_ms: sent.p99_ms,
        requests: sent.requests,
        cpu_ms_per_request: cpu_used.map(|(total, _)| total),
        system_ms_per_request: cpu_used.map(|(_, system)| system),
        peak_rss_mib: pid.map(peak_rss_mib),
        subgraph_calls_per_request: per_request(calls.iter().sum::<usize>() as f64),
        calls_per_subgraph: subgraphs
            .names
            .iter()
            .zip(&calls)
            .map(|(name, calls)| (name.clone(), per_request(*calls as f64)))
            .collect(),
        subgraph_cpu_ms_per_request: subgraph_cpu,
    }
}

/// A process the bench started (our router, the floor, the subgraphs), stopped when dropped.
struct ChildProcess {
    child: Child,
    url: String,
}

impl ChildProcess {
    async fn start(supergraph: &Path, mode: Mode, client: &reqwest::Client) -> Self {
        let port = free_port();
        let wrapper = std::env::var("BENCH_ROUTER_WRAPPER").unwrap_or_default();
        let mut command = match wrapper.split_whitespace().collect::<Vec<_>>().split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(env!("CARGO_BIN_EXE_router"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_router")),
        };
        let child = command
            .arg("--supergraph")
            .arg(supergraph)
            .env("ROUTER_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .envs(mode.env())
            .stdout(Stdio::null())
            .spawn()
            .expect("the router binary starts");
        Self::until_healthy(child, port, "graphql", client).await
    }

    /// The floor (`BENCH_FLOOR`): this bench's own binary, serving `answer` to every request.
    async fn start_floor(answer: &Path, client: &reqwest::Client) -> Self {
        let port = free_port();
        let child = Command::new(std::env::current_exe().expect("the bench's own binary"))
            .env(FLOOR_ANSWER, answer)
            .env(FLOOR_PORT, port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("the floor starts");
        Self::until_healthy(child, port, "graphql", client).await
    }

    /// Waits until `port` answers `/health`; the process's URL is `path` on that port.
    async fn until_healthy(child: Child, port: u16, path: &str, client: &reqwest::Client) -> Self {
        let process = Self {
            child,
            url: format!("http://127.0.0.1:{port}/{path}"),
        };
        let health = format!("http://127.0.0.1:{port}/health");
        for _ in 0..2400 {
            if client.get(&health).send().await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nothing came up on port {port}");
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

const FLOOR_ANSWER: &str = "BENCH_FLOOR_ANSWER";
const FLOOR_PORT: &str = "BENCH_FLOOR_PORT";
const SUBGRAPH_PORTS: &str = "BENCH_SUBGRAPH_PORTS";
const CONTROL_PORT: &str = "BENCH_CONTROL_PORT";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The floor's process: every POST gets the same bytes, with nothing read but the request.
async fn serve_floor(answer: PathBuf, port: u16) {
    use axum::routing::{get, post};
    let answer = Bytes::from(std::fs::read(answer).expect("the answer file"));
    let app = axum::Router::new()
        .route(
            "/graphql",
            post(move || {
                let answer = answer.clone();
                async move { ([(http::header::CONTENT_TYPE, "application/json")], answer) }
            }),
        )
        .route("/health", get(|| async { "UP" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}

impl Drop for ChildProcess {
    /// SIGTERM, so that the router (and a wrapper such as callgrind) ends cleanly.
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The answer, checked for completeness: a faster wrong router is no comparison.
async fn checked_answer(client: &reqwest::Client, url: &str, body: &Bytes) -> (JsonValue, Bytes) {
    let bytes = post(client, url, body.clone()).await;
    let answer: JsonValue = serde_json::from_slice(&bytes).unwrap();
    assert!(answer.get("errors").is_none(), "{answer:?}");
    let users = answer["data"]["users"].as_array().unwrap();
    assert_eq!(users.len(), USERS);
    assert!(users.iter().all(|u| u["reviews"].as_array().is_some()));
    let products = answer["data"]["topProducts"].as_array().unwrap();
    assert_eq!(products.len(), TOP_PRODUCTS);
    assert!(products
        .iter()
        .all(|p| p["shippingEstimate"].as_i64().is_some() && p["reviews"].as_array().is_some()));
    (answer, bytes)
}

#[tokio::main]
async fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = manifest.join("tests/fixtures/gateway-bench");
    if let Ok(answer) = std::env::var(FLOOR_ANSWER) {
        let port = env_number(FLOOR_PORT, 0) as u16;
        return serve_floor(answer.into(), port).await;
    }
    if let Ok(ports) = std::env::var(SUBGRAPH_PORTS) {
        let control = env_number(CONTROL_PORT, 0) as u16;
        return serve_subgraphs(&fixtures, &ports, control).await;
    }
    let seconds = env_number("BENCH_SECONDS", 30);
    let rounds = env_number("BENCH_ROUNDS", 2);
    let concurrency = env_number("BENCH_CONCURRENCY", 50) as usize;
    let until = match env_number("BENCH_REQUESTS", 0) {
        0 => Until::Elapsed(Duration::from_secs(seconds)),
        requests => Until::Calls(requests as usize),
    };
    let warmup_default = match until {
        Until::Elapsed(_) => 2,
        Until::Calls(_) => 0,
    };
    let warmup = Duration::from_secs(env_number("BENCH_WARMUP_SECONDS", warmup_default));

    let port_base = env_number("BENCH_SUBGRAPH_PORT_BASE", 0) as u16;
    let mut supergraph = std::fs::read_to_string(fixtures.join("supergraph.graphql")).unwrap();
    let mut ports = Vec::new();
    // The names alone: the subgraphs' process generates their data.
    for (i, (name, _)) in subgraph_data().into_iter().enumerate() {
        let port = match port_base {
            0 => free_port(),
            base => base + i as u16,
        };
        let url = format!("http://127.0.0.1:{port}/graphql");
        supergraph = supergraph.replace(&format!("http://127.0.0.1:4000/{name}"), &url);
        ports.push((name, port));
    }
    let supergraph_path: PathBuf = manifest.join("../target/gateway-bench-supergraph.graphql");
    std::fs::create_dir_all(supergraph_path.parent().unwrap()).unwrap();
    std::fs::write(&supergraph_path, &supergraph).unwrap();

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()
        .unwrap();
    let subgraphs = Subgraphs::start(&ports, &client).await;
    let compared = compared_routers();
    let modes = modes();
    assert!(
        compared.is_empty() || modes.len() == 1,
        "with BENCH_COMPARE, set BENCH_MODE to the other routers' deduplication setting"
    );
    println!(
        "gateway benchmark: {concurrency} clients, {rounds} round(s) of {seconds} s per router and \
         mode, supergraph {}",
        supergraph_path.display()
    );

    for mode in modes {
        let router = ChildProcess::start(&supergraph_path, mode, &client).await;
        checked_answer(&client, &router.url, &mode.registration()).await;
        let body = mode.body();
        let load = LoadGenerator::from_env(&client, &body, &manifest.join("../target"));
        let (ours, answer) = checked_answer(&client, &router.url, &body).await;
        let size = answer.len();
        let mut compared = compared.clone();
        let floor = match env_number("BENCH_FLOOR", 0) {
            0 => None,
            _ => {
                let path = manifest.join("../target/gateway-bench-answer.json");
                std::fs::write(&path, &answer).unwrap();
                let floor = ChildProcess::start_floor(&path, &client).await;
                compared.push(Compared {
                    label: "static answer (floor)".into(),
                    url: floor.url.clone(),
                    pid: Some(floor.pid()),
                });
                Some(floor)
            }
        };
        for other in &compared {
            let (theirs, _) = checked_answer(&client, &other.url, &body).await;
            assert_eq!(
                theirs["data"], ours["data"],
                "{} answers differently",
                other.label
            );
        }
        println!(
            "\nmode {}: {size} bytes of response, load from {}",
            mode.name(),
            load.name()
        );
        // Ours, then the compared routers (the floor last).
        let routers: Vec<(&str, &str, Option<u32>)> =
            std::iter::once(("ours", router.url.as_str(), Some(router.pid())))
                .chain(
                    compared
                        .iter()
                        .map(|c| (c.label.as_str(), c.url.as_str(), c.pid)),
                )
                .collect();
        // Unmeasured load first, the same for every router.
        if !warmup.is_zero() {
            for &(_, url, _) in &routers {
                let until = Until::Elapsed(warmup);
                measure(&load, &client, url, None, &subgraphs, concurrency, until).await;
            }
        }
        let mut rounds_of: Vec<Vec<Round>> = routers.iter().map(|_| Vec::new()).collect();
        // Each round starts with the next router, so that none is always measured first.
        for round in 1..=rounds {
            for turn in 0..routers.len() {
                let index = (turn + round as usize - 1) % routers.len();
                let (label, url, pid) = routers[index];
                let measured =
                    measure(&load, &client, url, pid, &subgraphs, concurrency, until).await;
                measured.print(&format!("{label}, round {round}"));
                rounds_of[index].push(measured);
            }
        }
        let their_rounds = rounds_of.split_off(1);
        let our_rounds = rounds_of.remove(0);
        for (other, theirs) in compared.iter().zip(&their_rounds) {
            print_ratios("ours", &other.label, &our_rounds, theirs);
        }
        if floor.is_some() {
            // The floor is the last compared: how far above each other router it is.
            let (floor_rounds, others) = their_rounds.split_last().unwrap();
            for (other, theirs) in compared.iter().zip(others) {
                print_ratios("the floor", &other.label, floor_rounds, theirs);
            }
        }
    }
}
