// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The accounts subgraph")]
struct Cli {
    /// A dotenv-style file of settings (environment variables win).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the subgraph (the default).
    Serve,
    /// Print the subgraph SDL.
    Sdl,
    /// Add a new token signing key: replicas started afterwards sign with it and still publish
    /// the older keys.
    RotateSigningKey,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(path) = &cli.config {
        kit::config::load_env_file(path)?;
    }
    if let Some(Command::Sdl) = cli.command {
        println!("{}", accounts::sdl());
        return Ok(());
    }
    kit::telemetry::init("info,sqlx=warn");
    let config = accounts::AccountsConfig::from_env()?;
    if let Some(Command::RotateSigningKey) = cli.command {
        let kid = accounts::rotate_signing_key(&config.database_url).await?;
        println!("added signing key {kid}; restart the accounts replicas to sign with it");
        return Ok(());
    }
    let app = accounts::AccountsApp::build(&config).await?;
    tracing::info!(address = %app.local_addr(), "accounts listening");
    app.run_until(kit::server::shutdown_signal()).await?;
    Ok(())
}
