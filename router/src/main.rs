use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use router::config::RouterConfig;
use router::supergraph::Supergraph;
use router::App;

// glibc malloc contends across threads under load; mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Federation router: serves the supergraph's API over GraphQL over HTTP.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The composed supergraph SDL.
    #[arg(
        long,
        env = "ROUTER_SUPERGRAPH",
        default_value = "schema/supergraph.graphql"
    )]
    supergraph: PathBuf,
    /// Optional TOML configuration file (see the `config` module for keys).
    #[arg(long, env = "ROUTER_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let env = |key: &str| std::env::var(key).ok();
    let mut config = RouterConfig::load(args.config.as_deref(), env)?;
    let sdl = std::fs::read_to_string(&args.supergraph)
        .with_context(|| format!("cannot read supergraph {}", args.supergraph.display()))?;
    let supergraph = Supergraph::parse(&sdl)?;
    config.apply_subgraph_env(supergraph.subgraph_urls.keys(), env);
    let app = App::with_supergraph(config, supergraph).await?;
    tracing::info!(address = %app.local_addr(), "router listening");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("router stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM (what orchestrators send): stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
