//! What search engines and shared links see: a product's title and description (the admin's,
//! else the name and the start of the description), the sitemap of every category and active
//! product (in pages of at most the protocol's limit), and robots.txt naming it.

use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

const SEO: &str = "mutation($input: UpdateProductInput!) { updateProduct(input: $input) {
    product { seo { title description } metaTitle } userErrors { field code } } }";

async fn start() -> (TestApp<Catalog>, String) {
    let app = catalog::spawn_with_demo(30).await;
    let admin = app.tokens.admin("usr_admin");
    (app, admin)
}

async fn first_product(app: &TestApp<Catalog>) -> Value {
    app.data(
        "{ products(first: 1) { edges { node { id slug name description seo { title description } } } } }",
        json!({}),
        None,
    )
    .await["products"]["edges"][0]["node"]
        .clone()
}

#[tokio::test]
async fn a_product_shows_its_own_title_and_description_or_the_admins() {
    let (app, admin) = start().await;
    let product = first_product(&app).await;
    assert_eq!(product["seo"]["title"], product["name"]);
    let description = product["seo"]["description"].as_str().unwrap();
    assert!(description.chars().count() <= 160, "{description}");
    assert!(
        product["description"]
            .as_str()
            .unwrap()
            .starts_with(description.trim_end_matches('…')),
        "{description}"
    );

    let set = app
        .data(
            SEO,
            json!({ "input": { "id": product["id"], "metaTitle": " Lamps that last ",
                "metaDescription": "Brass desk lamps, made to be repaired." } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        set["updateProduct"]["product"]["seo"],
        json!({ "title": "Lamps that last", "description": "Brass desk lamps, made to be repaired." })
    );
    let too_long = app
        .data(
            SEO,
            json!({ "input": { "id": product["id"], "metaTitle": "x".repeat(201) } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        too_long["updateProduct"]["userErrors"],
        json!([{ "field": ["input", "metaTitle"], "code": "INVALID_INPUT" }])
    );
    let cleared = app
        .data(
            SEO,
            json!({ "input": { "id": product["id"], "metaTitle": null } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        cleared["updateProduct"]["product"]["seo"]["title"],
        product["name"]
    );
    assert_eq!(
        cleared["updateProduct"]["product"]["metaTitle"],
        Value::Null
    );
}

#[tokio::test]
async fn the_sitemap_lists_categories_and_active_products_in_pages() {
    let (app, _) = start().await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("http://{}{path}", app.address))
            .header("host", "shop.example")
            .header("x-forwarded-proto", "https")
            .send()
    };
    let active: Vec<String> = app
        .data(
            "{ products(first: 100) { edges { node { slug } } } }",
            json!({}),
            None,
        )
        .await["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_string())
        .collect();
    let hidden: Vec<String> = app
        .data(
            "{ products(first: 100, filter: { status: DRAFT }) { edges { node { slug } } } }",
            json!({}),
            Some(&app.tokens.admin("usr_admin")),
        )
        .await["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_string())
        .collect();
    let categories = app
        .data("{ categories { slug children { slug } } }", json!({}), None)
        .await;
    let collections = app.data("{ collections { slug } }", json!({}), None).await["collections"]
        .as_array()
        .unwrap()
        .len();
    let fixed = 1 + count_categories(&categories) + collections;

    let response = get("/sitemap.xml").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<loc>https://shop.example/</loc>"), "{xml}");
    for slug in &active {
        assert!(
            xml.contains(&format!(
                "<loc>https://shop.example/p/{slug}</loc><lastmod>"
            )),
            "{slug}"
        );
    }
    for slug in &hidden {
        assert!(
            !xml.contains(&format!("/p/{slug}<")),
            "draft {slug} is listed"
        );
    }
    let child = categories["categories"][0]["children"][0]["slug"]
        .as_str()
        .unwrap();
    assert!(xml.contains(&format!("<loc>https://shop.example/c/{child}</loc>")));
    assert!(xml.contains("<loc>https://shop.example/collections/staff-picks</loc>"));
    assert_eq!(xml.matches("<url>").count(), fixed + active.len());

    // Past the limit, an index of pages that together list the same addresses.
    let service = &app.subgraph.service;
    let per = 10;
    let index = catalog::sitemap::sitemap(service, "https://shop.example", None, per)
        .await
        .unwrap()
        .unwrap();
    let pages = active.len().div_ceil(per);
    assert_eq!(index.matches("<sitemap>").count(), pages + 1, "{index}");
    let mut listed = 0;
    for page in 0..=pages {
        let xml = catalog::sitemap::sitemap(service, "https://shop.example", Some(page), per)
            .await
            .unwrap()
            .unwrap();
        let urls = xml.matches("<url>").count();
        assert!(urls <= per.max(fixed), "page {page}: {urls}");
        listed += urls;
    }
    assert_eq!(listed, fixed + active.len());
    let past = catalog::sitemap::sitemap(service, "https://shop.example", Some(pages + 1), per)
        .await
        .unwrap();
    assert!(past.is_none());

    let robots = get("/robots.txt").await.unwrap().text().await.unwrap();
    assert!(robots.contains("Disallow: /admin"), "{robots}");
    assert!(
        robots.contains("Sitemap: https://shop.example/sitemap.xml"),
        "{robots}"
    );
}

fn count_categories(tree: &Value) -> usize {
    tree["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|root| 1 + root["children"].as_array().unwrap().len())
        .sum()
}
