use std::path::{Path, PathBuf};

use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use super::*;

/// What `web/dist/` is built from; the same list as `web/scripts/source-hash.mjs`.
const SOURCES: &[&str] = &[
    "web/shared",
    "web/storefront",
    "web/admin",
    "web/index.html",
    "web/package.json",
    "web/package-lock.json",
    "web/vite.config.ts",
    "web/codegen.ts",
    "web/tsconfig.json",
    "frontend-queries/persisted-operations.json",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(path: &Path, found: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            files(&entry.unwrap().path(), found);
        }
    } else {
        found.push(path.to_path_buf());
    }
}

/// The hash `web/scripts/source-hash.mjs` writes: each file's path from the repository root,
/// a NUL, its bytes, a NUL, in path order.
fn source_hash() -> String {
    let repo = repo();
    let mut found = Vec::new();
    for source in SOURCES {
        files(&repo.join(source), &mut found);
    }
    let mut paths: Vec<String> = found
        .iter()
        .map(|path| {
            path.strip_prefix(&repo)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    paths.sort();
    let mut hash = Sha256::new();
    for path in paths {
        hash.update(path.as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(repo.join(&path)).unwrap());
        hash.update([0]);
    }
    hex(&hash.finalize())
}

#[test]
fn built_apps_are_fresh() {
    let recorded = std::fs::read_to_string(repo().join("web/dist/SOURCE_HASH")).unwrap();
    assert_eq!(
        recorded.trim(),
        source_hash(),
        "web/dist/ is older than its sources (or frontend-queries/persisted-operations.json): \
         run `npm ci && npm run build` in web/ and commit web/dist/"
    );
}

/// Whether a line of an app's source writes a GraphQL operation of its own (a tagged template
/// or a string that opens an operation), rather than importing a generated document.
fn writes_an_operation(line: &str) -> bool {
    const TAGS: &[&str] = &["gql`", "graphql(`", "graphql(\""];
    const OPENINGS: &[&str] = &[
        "query ",
        "query{",
        "mutation ",
        "mutation{",
        "subscription ",
    ];
    let line = line.trim_start();
    if line.starts_with("//") || line.starts_with('*') {
        return false;
    }
    TAGS.iter().any(|tag| line.contains(tag))
        || OPENINGS.iter().any(|opening| {
            ['"', '\'', '`']
                .iter()
                .any(|quote| line.contains(&format!("{quote}{opening}")))
        })
}

#[test]
fn the_apps_use_no_operation_outside_frontend_queries() {
    assert!(writes_an_operation(
        r#"  const q = "query Me { me { id } }";"#
    ));
    assert!(writes_an_operation("const q = gql`{ me { id } }`;"));
    assert!(writes_an_operation(
        "useQuery({ query: `mutation{ logout }` })"
    ));
    assert!(!writes_an_operation("// a query { in a comment }"));
    assert!(!writes_an_operation("useQuery({ query: HomeDocument })"));
    // Operations reach the apps only as the documents codegen generates from frontend-queries/;
    // an operation written in an app's source would bypass the manifest.
    let repo = repo();
    let mut found = Vec::new();
    for app in ["web/shared", "web/storefront", "web/admin"] {
        files(&repo.join(app), &mut found);
    }
    let sources = found
        .iter()
        .filter(|path| !path.components().any(|c| c.as_os_str() == "generated"));
    for path in sources {
        let text = std::fs::read_to_string(path).unwrap();
        if let Some(line) = text.lines().find(|line| writes_an_operation(line)) {
            panic!("{} writes an operation inline: {line}", path.display());
        }
    }
}

async fn get(path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = routes()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn pages_revalidate_assets_are_immutable_and_gzip_is_served_when_accepted() {
    let (status, headers, body) = get("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let page = String::from_utf8(body).unwrap();
    let script = page
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .expect("the page loads a script from /assets/");

    // The apps route in the browser: their deep links get their page.
    let (_, _, deep) = get("/p/some-product", &[]).await;
    assert_eq!(deep, page.as_bytes());
    let (_, _, admin) = get("/admin/orders/ord_1", &[]).await;
    assert!(String::from_utf8(admin).unwrap().contains("Shop admin"));

    let etag = headers[header::ETAG].to_str().unwrap();
    let (status, _, body) = get("/", &[("if-none-match", etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let (status, headers, plain) = get(script, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/javascript");
    assert_eq!(headers[header::CACHE_CONTROL], IMMUTABLE);
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    let (_, headers, compressed) = get(script, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert!(compressed.len() < plain.len() / 2);
    let (_, headers, _) = get(script, &[("accept-encoding", "gzip;q=0")]).await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));

    assert_eq!(
        get("/assets/missing.js", &[]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get("/favicon.ico", &[]).await.0, StatusCode::NOT_FOUND);
}
