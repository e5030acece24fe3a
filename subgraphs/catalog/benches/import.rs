//! Import speed of the embedded catalog (SQLite, the embedded search engine indexing the
//! product events as they come): a generated CSV of T-shirts in five sizes each, imported into
//! a catalog holding the 30-product demo, then the same file again (nothing changes).
//!
//! `cargo bench -p catalog --bench import` (BENCH_VARIANTS, default 100000). Prints rows per
//! second for both runs, counting until every new product is searchable.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write;
use std::time::Instant;

use catalog::domain::import::ImportFormat;
use catalog::service::ImportProgress;
use catalog::Catalog;

const SIZES: [&str; 5] = ["XS", "S", "M", "L", "XL"];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The README's bulk file: one product per five rows, its first row naming it.
fn csv(variants: usize) -> String {
    let mut file = String::from(
        "Handle,Title,Category,Option1 Name,Option1 Value,Variant SKU,Variant Price\n",
    );
    for row in 0..variants {
        let (product, size) = (row / SIZES.len(), SIZES[row % SIZES.len()]);
        let (title, category) = if row % SIZES.len() == 0 {
            (format!("Bulk Tee {product}"), "shirts")
        } else {
            (String::new(), "")
        };
        writeln!(
            file,
            "bulk-{product},{title},{category},Size,{size},BULK-{product}-{size},19.00"
        )
        .unwrap();
    }
    file
}

#[tokio::main]
async fn main() {
    let variants = env("BENCH_VARIANTS", 100_000);
    let app = kit::testing::spawn_app_with::<Catalog>(|env| {
        env.set("CATALOG_DATABASE_URL", storage::db::testing::sqlite_url())
            .set("CATALOG_SEARCH_DIR", ":memory:")
    })
    .await;
    let service = &app.subgraph.service;
    catalog::load_demo_data(service, 30)
        .await
        .expect("demo data");
    let file = csv(variants);
    println!("{variants} variants, {} bytes of CSV", file.len());
    let (progress, _) = tokio::sync::watch::channel(ImportProgress::Checking);
    let mut indexed = service.indexer.indexed();
    for run in ["first import", "same file again"] {
        let started = Instant::now();
        let report = service
            .import(file.as_bytes(), ImportFormat::Csv, &progress)
            .await
            .expect("the import runs");
        let applied = started.elapsed();
        // Every new product's event indexed: the import is searchable.
        indexed
            .wait_for(|n| *n >= report.products_created)
            .await
            .expect("the indexer runs");
        let elapsed = started.elapsed();
        assert!(
            report.errors.is_empty(),
            "{:?}",
            &report.errors[..3.min(report.errors.len())]
        );
        println!(
            "{run:<16} {elapsed:>8.1?}  {:>8.0} rows/s  (applied in {applied:.1?}, all searchable after {elapsed:.1?}; products created {}, variants created {}, unchanged {})",
            variants as f64 / elapsed.as_secs_f64(),
            report.products_created,
            report.variants_created,
            report.variants_unchanged,
        );
    }
}
