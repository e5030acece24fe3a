//! Product images through the router: an admin uploads an image of one variant as a GraphQL
//! multipart request, the router hands the file to the catalog, the product page shows it on
//! that variant, and the router serves it at the URL the catalog gave; files the router refuses
//! (too large, sent with a query) never reach a subgraph.

use serde_json::{json, Value};

use crate::client::{answer, error_code, user_error_code, TestShop};
use crate::variants::t_shirt;

const NAVY: &[u8] = include_bytes!("../../../subgraphs/catalog/tests/fixtures/navy.png");

const UPLOAD: &str =
    "mutation($input: UploadProductMediaInput!) { uploadProductMedia(input: $input) {
    product { media { id url width height variantIds } } userErrors { field code message } } }";

/// Posts `query` to the router with `file` filling `variables.input.file`.
async fn upload(
    shop: &TestShop,
    query: &str,
    variables: Value,
    file: Vec<u8>,
    token: Option<&str>,
) -> (u16, Value) {
    upload_to(shop, "variables.input.file", query, variables, file, token).await
}

async fn upload_to(
    shop: &TestShop,
    path: &str,
    query: &str,
    variables: Value,
    file: Vec<u8>,
    token: Option<&str>,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": query, "variables": variables }).to_string(),
        )
        .text("map", json!({ "0": [path] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(file)
                .file_name("navy.png")
                .mime_str("image/png")
                .unwrap(),
        );
    answer(
        shop.http.post(shop.shop.router_url()).multipart(form),
        token,
    )
    .await
}

#[tokio::test]
async fn an_admin_uploads_a_variant_image_through_the_router() {
    let shop = TestShop::start(2).await;
    let admin = shop.admin_token().await;
    let (product, variants) = t_shirt(&shop, &admin).await;
    let m_blue = &variants
        .iter()
        .find(|(title, _)| title == "M / Blue")
        .unwrap()
        .1;

    let input = json!({ "input": { "productId": product, "alt": "M / Blue", "variantIds": [m_blue], "file": null } });
    let (status, body) = upload(&shop, UPLOAD, input.clone(), NAVY.to_vec(), Some(&admin)).await;
    assert_eq!(status, 200, "{body:#}");
    let payload = &body["data"]["uploadProductMedia"];
    assert_eq!(payload["userErrors"], json!([]), "{body:#}");
    let media = &payload["product"]["media"][0];
    assert_eq!(
        (media["width"].as_i64(), media["height"].as_i64()),
        (Some(64), Some(48))
    );
    let url = media["url"].as_str().unwrap();

    // The product page: the image on "M / Blue" only.
    let page = shop
        .data(
            "query($id: ID!) { product(id: $id) { variants { id images { url } } } }",
            json!({ "id": product }),
            None,
        )
        .await;
    for variant in page["product"]["variants"].as_array().unwrap() {
        let expected = if variant["id"] == json!(m_blue) {
            json!([{ "url": url }])
        } else {
            json!([])
        };
        assert_eq!(variant["images"], expected, "{variant}");
    }

    // The router serves it beside the apps, at the URL the catalog gave.
    let served = shop
        .http
        .get(format!("http://{}{url}", shop.shop.router))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(&served.bytes().await.unwrap()[..], NAVY);

    // Not an image: the catalog's userError, through the router.
    let (_, body) = upload(
        &shop,
        UPLOAD,
        input.clone(),
        b"GIF? no, a text file".to_vec(),
        Some(&admin),
    )
    .await;
    assert_eq!(
        user_error_code(&body["data"]["uploadProductMedia"]),
        "INVALID_IMAGE",
        "{body:#}"
    );

    // Refused by the router before any subgraph sees them.
    let limit = shop.shop.router_config.limits.max_upload_bytes;
    let (status, body) = upload(
        &shop,
        UPLOAD,
        input.clone(),
        vec![0u8; limit + 1],
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (413, "PAYLOAD_TOO_LARGE"),
        "{body:#}"
    );
    let (status, body) = upload_to(
        &shop,
        "variables.id",
        "query($id: ID!) { product(id: $id) { id } }",
        json!({ "id": null }),
        NAVY.to_vec(),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "BAD_REQUEST"),
        "{body:#}"
    );
    // Anonymous callers and forged tokens are refused before the router reads their files.
    let (status, body) = upload(&shop, UPLOAD, input.clone(), NAVY.to_vec(), None).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body:#}"
    );
    let (status, body) = upload(
        &shop,
        UPLOAD,
        input.clone(),
        NAVY.to_vec(),
        Some("forged.token.here"),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "UNAUTHENTICATED"),
        "{body:#}"
    );
    let customer = shop.customer_token().await;
    let (_, body) = upload(&shop, UPLOAD, input, NAVY.to_vec(), Some(&customer)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let after = shop
        .data(
            "query($id: ID!) { product(id: $id) { media { id } } }",
            json!({ "id": product }),
            None,
        )
        .await;
    assert_eq!(after["product"]["media"].as_array().unwrap().len(), 1);
}
