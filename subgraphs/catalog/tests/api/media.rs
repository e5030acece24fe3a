//! Product images through the catalog's API: an admin uploads images (GraphQL multipart
//! requests) for the product and for one variant, the catalog serves them with a year's cache,
//! and every bad file or id is a userError that changes nothing.

use catalog::Catalog;
use kit::testing::TestApp;
use serde_json::{json, Value};

const NAVY: &[u8] = include_bytes!("../fixtures/navy.png");
const SAND: &[u8] = include_bytes!("../fixtures/sand.png");
/// The upload limit these tests run with.
const MAX_BYTES: usize = 4096;

const UPLOAD: &str =
    "mutation($input: UploadProductMediaInput!) { uploadProductMedia(input: $input) {
    product { media { id url alt width height variantIds } }
    userErrors { field code message } } }";

struct Shop {
    app: TestApp<Catalog>,
    admin: String,
}

impl Shop {
    async fn start() -> Self {
        Self::start_in(None).await
    }

    /// The catalog with its images in `store` (an object store URL), or in its data directory.
    async fn start_in(store: Option<String>) -> Self {
        let app = kit::testing::spawn_app_with::<Catalog>(|env| {
            let env = env
                .set("CATALOG_SEARCH_DIR", ":memory:")
                .set("CATALOG_MEDIA_MAX_BYTES", MAX_BYTES.to_string());
            match &store {
                Some(store) => env.set("CATALOG_MEDIA_STORE", store),
                None => env,
            }
        })
        .await;
        catalog::load_demo_data(&app.subgraph.service, 2)
            .await
            .expect("demo data loads");
        let admin = app.tokens.admin("usr_admin");
        Self { app, admin }
    }

    async fn admin(&self, query: &str, variables: Value) -> Value {
        self.app.data(query, variables, Some(&self.admin)).await
    }

    /// A new T-shirt in Navy and Sand: its id and its two variants' ids.
    async fn tee(&self) -> (String, String, String) {
        let category = self
            .app
            .data("{ categories { id } }", json!({}), None)
            .await["categories"][0]["id"]
            .clone();
        let made = self
            .admin(
                "mutation($c: ID!) { createProduct(input: { sku: \"TEE-IMG\", name: \"Tee\",
                    categoryId: $c, status: ACTIVE, price: { amount: \"20.00\", currencyCode: USD } }) {
                    product { id } } }",
                json!({ "c": category }),
            )
            .await;
        let product = made["createProduct"]["product"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.admin(
            "mutation($p: ID!) { setProductOptions(input: { productId: $p,
                options: [{ name: \"Colour\", values: [\"Navy\", \"Sand\"] }] }) { userErrors { message } } }",
            json!({ "p": product }),
        )
        .await;
        let made = self
            .admin(
                "mutation($p: ID!) { createProductVariants(input: { productId: $p, variants: [
                    { sku: \"TEE-IMG-N\", optionValues: [{ name: \"Colour\", value: \"Navy\" }],
                      price: { amount: \"20.00\", currencyCode: USD } },
                    { sku: \"TEE-IMG-S\", optionValues: [{ name: \"Colour\", value: \"Sand\" }],
                      price: { amount: \"20.00\", currencyCode: USD } }] }) {
                    variants { id } userErrors { message } } }",
                json!({ "p": product }),
            )
            .await;
        let variants = &made["createProductVariants"]["variants"];
        (
            product,
            variants[0]["id"].as_str().unwrap().to_string(),
            variants[1]["id"].as_str().unwrap().to_string(),
        )
    }

    async fn upload(&self, input: Value, filename: &str, bytes: &[u8]) -> Value {
        let mut input = input;
        input["file"] = Value::Null;
        let body = self
            .app
            .graphql_with_files(
                UPLOAD,
                json!({ "input": input }),
                vec![("input.file", filename, bytes.to_vec())],
                Some(&self.admin),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        body["data"]["uploadProductMedia"].clone()
    }

    async fn media(&self, product: &str) -> Value {
        self.app
            .data(
                "query($id: ID!) { product(id: $id) { media { id url alt width height variantIds }
                    variants { sku images { id } } } }",
                json!({ "id": product }),
                None,
            )
            .await["product"]
            .clone()
    }

    fn media_url(&self, url: &str) -> String {
        format!("http://{}{url}", self.app.address)
    }
}

#[tokio::test]
async fn an_admin_uploads_images_for_the_product_and_a_variant() {
    let shop = Shop::start().await;
    let (product, navy, _sand) = shop.tee().await;

    let uploaded = shop
        .upload(
            json!({ "productId": product, "alt": "The navy tee", "variantIds": [navy] }),
            "navy.png",
            NAVY,
        )
        .await;
    assert_eq!(uploaded["userErrors"], json!([]), "{uploaded:#}");
    let media = &uploaded["product"]["media"][0];
    assert_eq!(media["alt"], "The navy tee");
    assert_eq!(
        (media["width"].as_i64(), media["height"].as_i64()),
        (Some(64), Some(48))
    );
    assert_eq!(media["variantIds"], json!([navy]));
    let url = media["url"].as_str().unwrap();
    assert!(url.starts_with("/media/") && url.ends_with(".png"), "{url}");

    // Served as uploaded, cached for a year, revalidated by its ETag.
    let http = reqwest::Client::new();
    let served = http.get(shop.media_url(url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(
        served.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let etag = served.headers()["etag"].clone();
    assert_eq!(&served.bytes().await.unwrap()[..], NAVY);
    let again = http
        .get(shop.media_url(url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // The same file again (a retried upload) changes nothing; a second image comes last.
    let retried = shop
        .upload(json!({ "productId": product }), "navy-again.png", NAVY)
        .await;
    assert_eq!(retried["product"]["media"].as_array().unwrap().len(), 1);
    let second = shop
        .upload(
            json!({ "productId": product, "alt": "Sand" }),
            "sand.png",
            SAND,
        )
        .await;
    let list = second["product"]["media"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let (first_id, second_id) = (list[0]["id"].clone(), list[1]["id"].clone());

    // The variant shows its own image only; the other none.
    let read = shop.media(&product).await;
    let images: Vec<(&str, usize)> = read["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["sku"].as_str().unwrap(),
                v["images"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert!(
        images.contains(&("TEE-IMG-N", 1)) && images.contains(&("TEE-IMG-S", 0)),
        "{images:?}"
    );

    // Reordered, described, added by URL, removed.
    let reordered = shop
        .admin(
            "mutation($p: ID!, $ids: [ID!]!) { reorderProductMedia(input: { productId: $p, mediaIds: $ids }) {
                product { media { id } } userErrors { code } } }",
            json!({ "p": product, "ids": [second_id, first_id] }),
        )
        .await;
    assert_eq!(
        reordered["reorderProductMedia"]["product"]["media"][0]["id"],
        second_id
    );
    let described = shop
        .admin(
            "mutation($p: ID!, $m: ID!) { updateProductMedia(input: { productId: $p, mediaId: $m,
                alt: \"Sand, folded\" }) { product { media { alt } } userErrors { code } } }",
            json!({ "p": product, "m": second_id }),
        )
        .await;
    assert_eq!(
        described["updateProductMedia"]["product"]["media"][0]["alt"],
        "Sand, folded"
    );
    let linked = shop
        .admin(
            "mutation($p: ID!) { addProductMedia(input: { productId: $p, media: {
                url: \"https://cdn.example.com/tee-back.jpg\", alt: \"Back\", width: 800, height: 600 } }) {
                product { media { url width } } userErrors { code } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        linked["addProductMedia"]["product"]["media"][2]["width"],
        800
    );
    let removed = shop
        .admin(
            "mutation($p: ID!, $m: ID!) { removeProductMedia(input: { productId: $p, mediaId: $m }) {
                product { media { id } } userErrors { code } } }",
            json!({ "p": product, "m": first_id }),
        )
        .await;
    assert_eq!(
        removed["removeProductMedia"]["product"]["media"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn bad_files_and_ids_are_user_errors_that_change_nothing() {
    let shop = Shop::start().await;
    let (product, _, _) = shop.tee().await;
    let cases: Vec<(Value, &str, Vec<u8>, &str, &str)> = vec![
        (
            json!({ "productId": product }),
            "notes.png",
            b"%PDF-1.7 this is not an image".to_vec(),
            "INVALID_IMAGE",
            "file",
        ),
        (
            json!({ "productId": product }),
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            "INVALID_IMAGE",
            "file",
        ),
        (
            json!({ "productId": product }),
            "empty.png",
            Vec::new(),
            "INVALID_IMAGE",
            "file",
        ),
        (
            json!({ "productId": product }),
            "huge.png",
            [NAVY, &vec![0u8; MAX_BYTES]].concat(),
            "IMAGE_TOO_LARGE",
            "file",
        ),
        (
            json!({ "productId": product, "variantIds": ["var_not_this_products"] }),
            "navy.png",
            NAVY.to_vec(),
            "INVALID_INPUT",
            "variantIds",
        ),
        (
            json!({ "productId": "prod_missing" }),
            "navy.png",
            NAVY.to_vec(),
            "NOT_FOUND",
            "id",
        ),
    ];
    for (input, filename, bytes, code, field) in cases {
        let answer = shop.upload(input, filename, &bytes).await;
        assert_eq!(answer["product"], Value::Null, "{filename}: {answer:#}");
        assert_eq!(
            answer["userErrors"][0]["code"], code,
            "{filename}: {answer:#}"
        );
        assert_eq!(
            answer["userErrors"][0]["field"][1], field,
            "{filename}: {answer:#}"
        );
    }
    assert_eq!(shop.media(&product).await["media"], json!([]));

    let bad_url = shop
        .admin(
            "mutation($p: ID!) { addProductMedia(input: { productId: $p, media: { url: \"javascript:alert(1)\" } }) {
                userErrors { field code } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        bad_url["addProductMedia"]["userErrors"][0]["code"],
        "INVALID_INPUT"
    );
    let bad_order = shop
        .admin(
            "mutation($p: ID!) { reorderProductMedia(input: { productId: $p, mediaIds: [\"med_nope\"] }) {
                userErrors { field code } } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(
        bad_order["reorderProductMedia"]["userErrors"][0]["field"],
        json!(["input", "mediaIds"])
    );

    // A customer may not upload; the media route serves content keys only.
    let customer = shop.app.tokens.customer("usr_customer");
    let refused = shop
        .app
        .graphql_with_files(
            UPLOAD,
            json!({ "input": { "productId": product, "file": null } }),
            vec![("input.file", "navy.png", NAVY.to_vec())],
            Some(&customer),
        )
        .await;
    assert_eq!(
        kit::testing::error_code(&refused),
        "FORBIDDEN",
        "{refused:#}"
    );
    let http = reqwest::Client::new();
    for path in [
        "/media/../Cargo.toml",
        "/media/%2e%2e%2fCargo.toml",
        "/media/0000000000000000000000000000000000000000000000000000000000000000.png",
        "/media/notes.pdf",
    ] {
        let status = http
            .get(shop.media_url(path))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
}

/// Where `CATALOG_TEST_MEDIA_STORE` names an S3-compatible bucket (`s3://bucket`, reached with
/// the usual `AWS_*` variables; README shows one run locally), images and exports go there and
/// are served from it. Skipped elsewhere, as the Meilisearch contract is.
#[tokio::test]
async fn images_and_exports_are_kept_in_an_s3_bucket_where_one_is_given() {
    let Ok(store) = std::env::var("CATALOG_TEST_MEDIA_STORE") else {
        eprintln!("CATALOG_TEST_MEDIA_STORE is not set: the S3 media store is not tested");
        return;
    };
    let shop = Shop::start_in(Some(store)).await;
    let (product, navy, _sand) = shop.tee().await;
    let uploaded = shop
        .upload(
            json!({ "productId": product, "alt": "The navy tee", "variantIds": [navy] }),
            "navy.png",
            NAVY,
        )
        .await;
    assert_eq!(uploaded["userErrors"], json!([]), "{uploaded:#}");
    let url = uploaded["product"]["media"][0]["url"].as_str().unwrap();
    let http = reqwest::Client::new();
    let served = http.get(shop.media_url(url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(&served.bytes().await.unwrap()[..], NAVY);

    let exported = shop
        .admin(
            "mutation { exportProducts(input: { format: CSV }) { export { url } } }",
            json!({}),
        )
        .await;
    let link = exported["exportProducts"]["export"]["url"]
        .as_str()
        .unwrap();
    let file = http.get(shop.media_url(link)).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(file.text().await.unwrap().contains("TEE-IMG"));
}
