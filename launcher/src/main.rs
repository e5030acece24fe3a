// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::ffi::OsString;
use std::path::PathBuf;

use accounts::Accounts;
use catalog::{Catalog, CatalogCommand};
use clap::{Parser, Subcommand};
use kit::subgraph::Settings;
use kit::Subgraph;
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
    /// Import products and variants from a CSV file (Shopify's product CSV columns, one row
    /// per variant; see README) into the catalog, then exit. A file with errors changes
    /// nothing and lists every row and column at fault. (`shop catalog import FILE` does the
    /// same for a production deployment's catalog.)
    Import { file: PathBuf },
    /// Write every product and its variants to a CSV file in the import's columns, then exit.
    Export { file: PathBuf },
    /// Run one process of a production deployment: `router`, a subgraph (`accounts`,
    /// `catalog`, `inventory`, `carts`, `orders`, `payments`, `shipping`, `reviews`,
    /// `notifications`, `recommendations`) with its own arguments, e.g.
    /// `shop catalog serve`, or `payment-test-provider` (the test card processor, for staging).
    #[command(external_subcommand)]
    Process(Vec<OsString>),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Process(args)) = cli.command {
        return run_process(args).await;
    }
    let _telemetry = telemetry::init("shop", "info,sqlx=warn,tantivy=warn");
    let mut options = ShopOptions::new(&cli.data_dir);
    options.demo_products = cli.demo_products;
    // The demo's parcels move along by themselves: a step every 20 s unless configured.
    if std::env::var_os("SHIPPING_SIMULATOR_STEP_SECS").is_none() {
        options.set("SHIPPING_SIMULATOR_STEP_SECS", "20");
    }
    // Low-stock alerts go to the demo admin unless configured.
    if std::env::var_os("NOTIFICATIONS_ADMIN_EMAILS").is_none() {
        options.set("NOTIFICATIONS_ADMIN_EMAILS", DEMO_ADMIN.0);
    }
    let catalog_settings = || Settings::load::<Catalog>(&options.env(Catalog::NAME));
    match cli.command.unwrap_or(Command::Run) {
        Command::Seed { products } => {
            Catalog::run_command(CatalogCommand::Seed { products }, catalog_settings()?).await?;
        }
        Command::Reindex => {
            Catalog::run_command(CatalogCommand::Reindex, catalog_settings()?).await?;
        }
        Command::Import { file } => {
            Catalog::run_command(CatalogCommand::Import { file }, catalog_settings()?).await?;
        }
        Command::Export { file } => {
            Catalog::run_command(CatalogCommand::Export { file }, catalog_settings()?).await?;
        }
        Command::Process(_) => unreachable!("handled above"),
        Command::Run => {
            let mut shop = Shop::start(&options).await?;
            println!();
            println!(
                "  The shop is running (data in {}/)",
                cli.data_dir.display()
            );
            println!("  storefront:         http://{}/", shop.router);
            println!("  admin dashboard:    http://{}/admin", shop.router);
            println!(
                "  GraphQL (router):   {}   (open it in a browser for GraphiQL)",
                shop.router_url()
            );
            for subgraph in &shop.subgraphs {
                let label = format!("{}:", subgraph.name);
                println!("  {label:<20}http://{}/graphql", subgraph.address);
            }
            println!(
                "  JWKS:               http://{}/.well-known/jwks.json",
                shop.address(Accounts::NAME)
            );
            if std::env::var_os("NOTIFICATIONS_SMTP_URL").is_none() {
                println!(
                    "  emails sent:        {}/mail/ (one .eml file each)",
                    cli.data_dir.display()
                );
            }
            if cli.demo_products > 0 {
                println!("  demo admin:         {} / {}", DEMO_ADMIN.0, DEMO_ADMIN.1);
                println!(
                    "  demo customer:      {} / {}",
                    DEMO_CUSTOMER.0, DEMO_CUSTOMER.1
                );
            }
            println!();
            tokio::select! {
                result = shop.wait_for_failure() => result?,
                _ = web::server::shutdown_signal() => {
                    tracing::info!("shutting down");
                    shop.stop().await;
                }
            }
        }
    }
    Ok(())
}

/// One process of a production deployment: the router, a subgraph or the test card processor.
async fn run_process(args: Vec<OsString>) -> anyhow::Result<()> {
    let name = args
        .first()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if name == "router" {
        return router::cli::run(args).await;
    }
    if name == "payment-test-provider" {
        let _telemetry = telemetry::init("payment-test-provider", "info");
        return shop::serve_test_provider().await;
    }
    match shop::subgraphs().into_iter().find(|s| s.name() == name) {
        Some(subgraph) => subgraph.cli(args).await,
        None => anyhow::bail!(
            "unknown command {name:?}: run, seed, reindex, router, payment-test-provider, or a \
             subgraph ({})",
            shop::subgraphs()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
