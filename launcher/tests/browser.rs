//! The storefront and the admin dashboard in Chromium against the embedded shop, as
//! `cargo run` starts it (SQLite, the embedded bus and search, demo data): `web/e2e/run.mjs`
//! drives Debian's Chromium through playwright-core over real HTTP. It needs `npm ci` in `web/`
//! and `/usr/bin/chromium` (or `CHROMIUM`); `.ci/run` installs both on a new machine.

use std::path::Path;
use std::process::Stdio;

use shop::{Shop, ShopOptions};

#[tokio::test(flavor = "multi_thread")]
async fn storefront_and_admin_journeys_pass_in_chromium() {
    // The shop's errors (an internal error's cause) show beside a failed journey.
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_test_writer()
        .try_init();
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "the browser tests need web/node_modules: run `npm ci` in web/"
    );
    let data_dir = std::env::temp_dir().join(primitives::id::new_id("shop-browser"));
    let mut options = ShopOptions::new(&data_dir);
    options.base_port = 0;
    options.read_environment = false;
    options.demo_products = 60;
    // Delivered within seconds: the guest's journey waits for it.
    options.set("SHIPPING_SIMULATOR_STEP_SECS", "1");
    // The demo admin holds its permissions without a second factor here.
    options.set("ACCOUNTS_STAFF_MFA", "optional");
    let shop = Shop::start(&options)
        .await
        .expect("the embedded shop starts");

    let output = tokio::process::Command::new("node")
        .arg("e2e/run.mjs")
        .current_dir(&web)
        .env("SHOP_URL", format!("http://{}", shop.router))
        // The embedded shop's mail sink: the journeys read the emails it wrote.
        .env("MAIL_DIR", data_dir.join("mail"))
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs (Node.js 20 or later)");
    shop.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the browser journeys failed (see above)"
    );
}
