// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The catalog subgraph")]
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
    /// Rebuild the search index from the database.
    Reindex,
    /// Load a generated demo catalog into an empty database.
    Seed {
        #[arg(long, default_value_t = 1000)]
        products: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(path) = &cli.config {
        kit::config::load_env_file(path)?;
    }
    kit::telemetry::init("info,sqlx=warn,tantivy=warn");
    let config = catalog::CatalogConfig::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Sdl => println!("{}", catalog::sdl()),
        Command::Reindex => {
            let service = catalog::service(&config).await?;
            let indexed = service.indexer.rebuild().await?;
            println!("indexed {indexed} active products");
        }
        Command::Seed { products } => {
            let service = catalog::service(&config).await?;
            if catalog::load_demo_data(&service, products).await? {
                println!("loaded {products} demo products");
            } else {
                println!("the catalog already has data; nothing loaded");
            }
        }
        Command::Serve => {
            let app = catalog::CatalogApp::build(&config).await?;
            tracing::info!(address = %app.local_addr(), "catalog listening");
            app.run_until(kit::server::shutdown_signal()).await?;
        }
    }
    Ok(())
}
