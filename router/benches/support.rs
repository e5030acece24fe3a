//! What the router benchmarks share: a closed-loop load generator and its statistics.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub struct Stats {
    pub requests: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Stats {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at percentile `p` (0 to 1), in milliseconds.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        self.latencies.sort();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }

    pub fn print(&mut self, label: &str) {
        println!(
            "{label:<44} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests)",
            self.requests_per_second(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.requests
        );
    }
}

/// How long a load runs: for a time, or for a number of calls in all.
#[derive(Clone, Copy)]
pub enum Until {
    Elapsed(Duration),
    Calls(usize),
}

/// Runs `concurrency` workers for `duration`; each iteration is one timed call of `work`.
pub async fn load<F, Fut>(concurrency: usize, duration: Duration, work: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    load_until(concurrency, Until::Elapsed(duration), work).await
}

/// Runs `concurrency` workers until `until`; each iteration is one timed call of `work`.
pub async fn load_until<F, Fut>(concurrency: usize, until: Until, work: F) -> Stats
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let work = Arc::new(work);
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let work = work.clone();
            let started = started.clone();
            let go_on = move || match until {
                Until::Elapsed(duration) => start.elapsed() < duration,
                Until::Calls(calls) => {
                    started.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < calls
                }
            };
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while go_on() {
                    let t = Instant::now();
                    work().await;
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    Stats {
        requests: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
    }
}

pub async fn post(client: &reqwest::Client, url: &str, body: Bytes) -> Bytes {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request succeeds");
    assert!(response.status().is_success());
    response.bytes().await.expect("body")
}

pub fn env_number(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
