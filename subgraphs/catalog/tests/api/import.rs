//! CSV import through the catalog's API: a file of a T-shirt (options) and a lamp (none) makes
//! them; the same file again changes nothing; a changed price changes one variant; a file with
//! any error changes nothing and names every row and column at fault.

use catalog::domain::import::ImportFormat;
use catalog::domain::import_job::{ImportStatus, ProductImport};
use catalog::service::ImportProgress;
use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

const HEADER: &str = "Handle,Title,Body (HTML),Category,Status,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant SKU,Variant Price,Variant Compare At Price,Variant Grams,Variant Barcode";

/// Starts importing `csv` and follows the import to its end: the finished `ProductImport`, or
/// the payload when the import did not start.
async fn import(app: &TestApp<Catalog>, admin: &str, csv: &str) -> Value {
    let mut ended = app.subgraph.service.imports_ended();
    let started = app
        .data(
            "mutation($csv: String!) { importProducts(input: { file: $csv }) {
                import { id status productsDone } userErrors { code message } } }",
            json!({ "csv": csv }),
            Some(admin),
        )
        .await["importProducts"]
        .clone();
    let Some(id) = started["import"]["id"].as_str() else {
        return started;
    };
    assert_eq!(started["import"]["status"], "RUNNING");
    loop {
        let import = app
            .data(
                "query($id: ID!) { productImport(id: $id) { status productsTotal productsDone
                    productsCreated productsUpdated variantsCreated variantsUpdated
                    variantsUnchanged errors { row column message } errorCount failure } }",
                json!({ "id": id }),
                Some(admin),
            )
            .await["productImport"]
            .clone();
        if import["status"] != "RUNNING" {
            return import;
        }
        ended.changed().await.unwrap();
    }
}

/// A progress channel nobody follows.
fn progress() -> tokio::sync::watch::Sender<ImportProgress> {
    tokio::sync::watch::channel(ImportProgress::Checking).0
}

/// The report's errors as (row, column).
fn rows_and_columns(report: &Value) -> Vec<(i64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let column = e["column"].as_str().unwrap_or("-").to_string();
            (e["row"].as_i64().unwrap(), column)
        })
        .collect()
}

fn counts(report: &Value) -> [i64; 5] {
    [
        "productsCreated",
        "productsUpdated",
        "variantsCreated",
        "variantsUpdated",
        "variantsUnchanged",
    ]
    .map(|k| report[k].as_i64().unwrap())
}

/// `{HEADER}` and a T-shirt in S/M x Red/Blue and a lamp, in category `category`; the M/Blue
/// price is `m_blue`.
fn file(category: &str, m_blue: &str) -> String {
    format!(
        "\u{feff}{HEADER}\n\
         csv-tee,CSV Tee,\"Soft, \"\"organic\"\"\nand light\",{category},active,Size,S,Colour,Red,CSV-TEE-S-RED,20.00,,180,\n\
         csv-tee,,,,,,S,,Blue,CSV-TEE-S-BLUE,20.00,,180,\n\
         csv-tee,,,,,,M,,Red,CSV-TEE-M-RED,22.00,25.00,200,\n\
         csv-tee,,,,,,M,,Blue,CSV-TEE-M-BLUE,{m_blue},,200,0123456789012\n\
         csv-lamp,CSV Lamp,A lamp.,{category},draft,Title,Default Title,,,CSV-LAMP-1,89.00,99.00,900,\n"
    )
}

async fn product(app: &TestApp<Catalog>, admin: &str, slug: &str) -> Value {
    app.data(
        "query($slug: String!) { product(slug: $slug) { name description status sku
            options { name values }
            variants { sku optionValues { value } price { amount } compareAtPrice { amount }
                weightGrams barcode status } } }",
        json!({ "slug": slug }),
        Some(admin),
    )
    .await["product"]
        .clone()
}

#[tokio::test]
async fn a_file_makes_products_once_and_changes_only_what_differs() {
    let app = catalog::spawn_with_demo(2).await;
    let admin = app.tokens.admin("usr_admin");
    let category = app
        .data("{ categories { children { slug } } }", json!({}), None)
        .await["categories"][0]["children"][0]["slug"]
        .as_str()
        .unwrap()
        .to_string();

    let first = import(&app, &admin, &file(&category, "22.00")).await;
    assert_eq!(first["errors"], json!([]), "{first}");
    assert_eq!(counts(&first), [2, 0, 5, 0, 0]);
    assert_eq!(
        (
            &first["status"],
            &first["productsTotal"],
            &first["productsDone"]
        ),
        (&json!("DONE"), &json!(2), &json!(2))
    );
    let tee = product(&app, &admin, "csv-tee").await;
    assert_eq!(tee["name"], "CSV Tee");
    assert_eq!(tee["description"], "Soft, \"organic\"\nand light");
    assert_eq!(
        tee["options"],
        json!([{ "name": "Size", "values": ["S", "M"] }, { "name": "Colour", "values": ["Red", "Blue"] }])
    );
    let live: Vec<&Value> = tee["variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "ACTIVE")
        .collect();
    assert_eq!(live.len(), 4);
    assert_eq!(
        *live[3],
        json!({ "sku": "CSV-TEE-M-BLUE", "optionValues": [{ "value": "M" }, { "value": "Blue" }],
            "price": { "amount": "22.00" }, "compareAtPrice": null, "weightGrams": 200,
            "barcode": "0123456789012", "status": "ACTIVE" })
    );
    let lamp = product(&app, &admin, "csv-lamp").await;
    assert_eq!(
        (lamp["status"].as_str(), lamp["sku"].as_str()),
        (Some("DRAFT"), Some("CSV-LAMP-1"))
    );
    assert_eq!(lamp["variants"][0]["compareAtPrice"]["amount"], "99.00");

    // The same file again: nothing changes.
    let again = import(&app, &admin, &file(&category, "22.00")).await;
    assert_eq!(counts(&again), [0, 0, 0, 0, 5], "{again}");
    assert_eq!(product(&app, &admin, "csv-tee").await, tee);

    // One price changed: one variant.
    let changed = import(&app, &admin, &file(&category, "23.50")).await;
    assert_eq!(counts(&changed), [0, 0, 0, 1, 4], "{changed}");
    assert_eq!(
        product(&app, &admin, "csv-tee").await["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["sku"] == "CSV-TEE-M-BLUE")
            .unwrap()["price"]["amount"],
        "23.50"
    );
}

#[tokio::test]
async fn a_file_with_any_error_changes_nothing_and_names_each_row_and_column() {
    let app = catalog::spawn_with_demo(2).await;
    let admin = app.tokens.admin("usr_admin");
    let taken_sku = app
        .data(
            "{ products(first: 1) { edges { node { sku } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"][0]["node"]["sku"]
        .as_str()
        .unwrap()
        .to_string();
    let category = app
        .data("{ categories { children { slug } } }", json!({}), None)
        .await["categories"][0]["children"][0]["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app
        .data(
            "{ products(first: 50) { totalCount } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let bad = format!(
        "{HEADER}\n\
         ok-product,OK,,{category},,,,,,OK-1,10.00,,,\n\
         no-title,,,{category},,,,,,NT-1,10.00,,,\n\
         no-category,Lost,,,,,,,,NC-1,10.00,,,\n\
         other-category,Lost,,nowhere,,,,,,OC-1,10.00,,,\n\
         taken,Taken,,{category},,,,,,{taken_sku},10.00,,,\n\
         cheap,Cheap,,{category},,,,,,CH-1,10.00,9.00,,\n\
         heavy,Heavy,,{category},,,,,,HV-1,10.00,,-5,\n"
    );
    let report = import(&app, &admin, &bad).await;
    let found = rows_and_columns(&report);
    // What the file says on its own first: when that is wrong, the catalog is not asked.
    assert_eq!(
        found,
        [
            (7, "Variant Compare At Price".into()),
            (8, "Variant Grams".into())
        ],
        "{report}"
    );
    let fixed = bad
        .replace(",10.00,9.00,,", ",10.00,,,")
        .replace(",10.00,,-5,", ",10.00,,,");
    let report = import(&app, &admin, &fixed).await;
    let found = rows_and_columns(&report);
    assert_eq!(
        found,
        [
            (3, "Title".into()),
            (4, "Category".into()),
            (5, "Category".into()),
            (6, "Variant SKU".into())
        ],
        "{report}"
    );
    assert_eq!(counts(&report), [0, 0, 0, 0, 0]);
    assert_eq!(
        (&report["status"], &report["errorCount"]),
        (&json!("REJECTED"), &json!(4))
    );
    let after = app
        .data(
            "{ products(first: 50) { totalCount } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(after, before, "nothing was imported");
    assert_eq!(product(&app, &admin, "ok-product").await, Value::Null);

    // An empty file, and a customer, are refused.
    assert_eq!(
        import(&app, &admin, " ").await["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let refused = app
        .graphql(
            "mutation { importProducts(input: { file: \"Handle\" }) { import { id } } }",
            json!({}),
            Some(&app.tokens.customer("usr_c")),
        )
        .await;
    assert_eq!(kit::testing::error_code(&refused), "FORBIDDEN");
}

#[tokio::test]
async fn an_export_imported_again_changes_nothing_in_either_format() {
    // 40 demo products: the T-shirt in sizes and colours among them, drafts and archived ones.
    let app = catalog::spawn_with_demo(40).await;
    let service = &app.subgraph.service;
    for format in [ImportFormat::Csv, ImportFormat::JsonLines] {
        let mut out = Vec::new();
        let rows = service.export(&mut out, format).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(rows, 39 + 6, "one variant per product, six for the T-shirt");
        assert!(text.contains("TEE-000001-M-SAND"), "{text}");
        if format == ImportFormat::JsonLines {
            assert_eq!(text.lines().count(), 40, "a line per product");
        }
        let report = service
            .import(text.as_bytes(), format, &progress())
            .await
            .unwrap();
        assert_eq!(report.errors, vec![], "{format:?}");
        assert_eq!(
            (
                report.products_created,
                report.products_updated,
                report.variants_created,
                report.variants_updated,
                report.variants_unchanged
            ),
            (0, 0, 0, 0, rows),
            "{format:?}"
        );
    }
    // A JSON line with a bad field names it and changes nothing.
    let bad = "{\"handle\":\"new-mug\",\"title\":\"Mug\",\"category\":\"mugs\",\"variants\":[{\"sku\":\"MUG-1\",\"price\":\"0.5.0\"}]}\n";
    let report = service
        .import(bad.as_bytes(), ImportFormat::JsonLines, &progress())
        .await
        .unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        (report.errors[0].row, report.errors[0].column.as_deref()),
        (1, Some("variants[0].price"))
    );
}

#[tokio::test]
async fn an_import_whose_process_died_is_taken_over_once_and_finished() {
    let app = catalog::spawn_with_demo(2).await;
    let service = &app.subgraph.service;
    let category = service.store.categories().await.unwrap()[1].slug.clone();
    // What a process that died a minute ago, mid-import, leaves: a running import whose
    // heartbeat is stale, its file stored.
    let long_ago = primitives::time::now_millis() - 120_000;
    let stalled = ProductImport::started(
        "imp_stalled".into(),
        ImportFormat::Csv,
        "usr_admin",
        long_ago,
    );
    service
        .store
        .insert_import(&stalled, &file(&category, "22.00"))
        .await
        .unwrap();
    // It applied part of the file before it died.
    let partial: String = file(&category, "22.00")
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    let report = service
        .import(partial.as_bytes(), ImportFormat::Csv, &progress())
        .await
        .unwrap();
    assert_eq!(report.variants_created, 2);

    // Two processes look for imports to take over at once: exactly one takes it.
    let mut ended = service.imports_ended();
    let (a, b) = tokio::join!(
        service.resume_stale_imports(),
        service.resume_stale_imports()
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let finished = loop {
        let import = service
            .product_import("imp_stalled")
            .await
            .unwrap()
            .unwrap();
        if import.status != ImportStatus::Running {
            break import;
        }
        ended.changed().await.unwrap();
    };
    assert_eq!(finished.status, ImportStatus::Done, "{finished:?}");
    assert_eq!(finished.attempts, 2);
    // The tee's two variants from before were found as they are; the rest was applied.
    assert_eq!(
        (
            finished.counts.variants_unchanged,
            finished.counts.variants_created,
            finished.products_total
        ),
        (2, 3, Some(2))
    );
    assert_eq!(service.resume_stale_imports().await.unwrap(), 0);
}

#[tokio::test]
async fn an_admin_downloads_an_export_from_its_link_that_nobody_can_guess() {
    let app = catalog::spawn_with_demo(40).await;
    let admin = app.tokens.admin("usr_admin");
    let http = reqwest::Client::new();
    for (format, content_type, line) in [
        ("CSV", "text/csv; charset=utf-8", "TEE-000001-M-SAND"),
        (
            "JSON_LINES",
            "application/x-ndjson",
            "\"TEE-000001-M-SAND\"",
        ),
    ] {
        let payload = app
            .data(
                "mutation($format: ImportFormat!) { exportProducts(input: { format: $format }) {
                    export { url format variants expiresAt } userErrors { code } } }",
                json!({ "format": format }),
                Some(&admin),
            )
            .await["exportProducts"]
            .clone();
        let export = &payload["export"];
        assert_eq!(export["variants"], 45, "{payload}");
        let url = export["url"].as_str().unwrap();
        assert!(url.starts_with("/media/exports/export_"), "{url}");
        let downloaded = http
            .get(format!("http://{}{url}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(downloaded.status(), 200);
        let header = |name: &str| downloaded.headers()[name].to_str().unwrap().to_string();
        assert_eq!(header("content-type"), content_type);
        assert!(header("content-disposition").starts_with("attachment"));
        assert_eq!(header("cache-control"), "private, no-store");
        let text = downloaded.text().await.unwrap();
        assert!(text.contains(line), "{format}: {text}");
    }
    // Names that are not exports' links, or links never given, find nothing.
    for path in [
        "/media/exports/export_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.csv",
        "/media/exports/..%2F..%2FCargo.toml",
        "/media/exports/products.csv",
    ] {
        let response = http
            .get(format!("http://{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let refused = app
        .graphql(
            "mutation { exportProducts(input: {}) { export { url } } }",
            json!({}),
            Some(&app.tokens.customer("usr_c")),
        )
        .await;
    assert_eq!(kit::testing::error_code(&refused), "FORBIDDEN");
}
