// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shop::{Shop, ShopOptions, DEMO_ADMIN, DEMO_CUSTOMER};

#[derive(Parser)]
#[command(about = "The whole shop in one process: router on :4000, subgraphs from :4001")]
struct Cli {
    /// Where the SQLite files and the search index live.
    #[arg(long, env = "SHOP_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Demo products generated on first start (0: no demo data).
    #[arg(long, env = "SHOP_DEMO_PRODUCTS", default_value_t = 1000)]
    demo_products: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the shop (the default).
    Run,
    /// Fill an empty catalog with generated products (e.g. 100000 for load tests), then exit.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        products: usize,
    },
    /// Rebuild the search index from the catalog database, then exit.
    Reindex,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::telemetry::init("info,sqlx=warn,tantivy=warn");
    let cli = Cli::parse();
    let mut options = ShopOptions::new(&cli.data_dir);
    options.demo_products = cli.demo_products;
    match cli.command.unwrap_or(Command::Run) {
        Command::Seed { products } => {
            let service =
                catalog::service(&options.catalog_config("http://127.0.0.1:4001")).await?;
            if catalog::load_demo_data(&service, products).await? {
                println!(
                    "loaded {products} demo products into {}",
                    cli.data_dir.display()
                );
            } else {
                println!(
                    "the catalog in {} already has data; nothing loaded",
                    cli.data_dir.display()
                );
            }
        }
        Command::Reindex => {
            let service =
                catalog::service(&options.catalog_config("http://127.0.0.1:4001")).await?;
            let indexed = service.indexer.rebuild().await?;
            println!("indexed {indexed} active products");
        }
        Command::Run => {
            let mut shop = Shop::start(&options).await?;
            println!();
            println!(
                "  The shop is running (data in {}/)",
                cli.data_dir.display()
            );
            println!(
                "  GraphQL (router):  {}   (open it in a browser for GraphiQL)",
                shop.router_url()
            );
            println!("  accounts subgraph: http://{}/graphql", shop.accounts);
            println!("  catalog subgraph:  http://{}/graphql", shop.catalog);
            println!(
                "  JWKS:              http://{}/.well-known/jwks.json",
                shop.accounts
            );
            if cli.demo_products > 0 {
                println!("  demo admin:        {} / {}", DEMO_ADMIN.0, DEMO_ADMIN.1);
                println!(
                    "  demo customer:     {} / {}",
                    DEMO_CUSTOMER.0, DEMO_CUSTOMER.1
                );
            }
            println!();
            tokio::select! {
                result = shop.wait_for_failure() => result?,
                _ = kit::server::shutdown_signal() => {
                    tracing::info!("shutting down");
                    shop.stop().await;
                }
            }
        }
    }
    Ok(())
}
