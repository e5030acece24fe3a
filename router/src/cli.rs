//! The router's command line: `--supergraph FILE`, `--config FILE`, environment variables (see
//! [`crate::config`]); `manifest` writes the persisted-operation manifest, `costs` prints its
//! operations' estimated costs. The `router` binary and the shop binary's `router` command both run it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

use crate::config::RouterConfig;
use crate::supergraph::Supergraph;
use crate::App;

/// Federation router: serves the supergraph's API over GraphQL over HTTP.
#[derive(Parser)]
#[command(name = "router", version)]
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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Write the persisted-operation manifest of a directory of client operations, after
    /// checking every operation against the supergraph.
    Manifest {
        #[arg(long, default_value = "frontend-queries")]
        operations: PathBuf,
        #[arg(long, default_value = "frontend-queries/persisted-operations.json")]
        output: PathBuf,
    },
    /// Print each operation of a persisted-operation manifest with its estimated cost,
    /// costliest first, and the configured maximum: what to set `demand_control.max_cost` from.
    Costs {
        #[arg(long, default_value = "frontend-queries/persisted-operations.json")]
        manifest: PathBuf,
    },
}

/// Parses `args` (the program name first) and serves until SIGTERM or Ctrl-C.
pub async fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let _telemetry = telemetry::init("router", "info");
    let args = Args::parse_from(args);
    let sdl = std::fs::read_to_string(&args.supergraph)
        .with_context(|| format!("cannot read supergraph {}", args.supergraph.display()))?;
    let supergraph = Supergraph::parse(&sdl)?;
    if let Some(Command::Manifest { operations, output }) = args.command {
        let text = crate::persisted::manifest::generate_checked(&operations, &supergraph)?;
        std::fs::write(&output, text)
            .with_context(|| format!("cannot write {}", output.display()))?;
        println!("wrote {}", output.display());
        return Ok(());
    }
    let source = match &args.config {
        Some(path) => configuration::Source::process().with_toml_file(path),
        None => configuration::Source::process(),
    };
    let mut config =
        RouterConfig::load(&source, supergraph.subgraph_urls.keys().map(String::as_str))?;
    // A serving thread per core (see `crate::serving`) unless configured.
    config.http.threads.get_or_insert_with(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    });
    if let Some(Command::Costs { manifest }) = args.command {
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("cannot read {}", manifest.display()))?;
        let demand = &config.demand_control;
        for cost in crate::persisted::manifest::costs(&text, &supergraph, demand)? {
            println!("{:>8}  {}  {}", cost.estimated, cost.name, cost.id);
        }
        match demand.max_cost {
            Some(max) => println!("max_cost = {max}"),
            None => println!("max_cost: none (nothing is refused by cost)"),
        }
        return Ok(());
    }
    let app = App::with_supergraph(config, supergraph).await?;
    tracing::info!(address = %app.local_addr(), "router listening");
    app.run_until(web::server::shutdown_signal()).await?;
    tracing::info!("router stopped");
    Ok(())
}
