//! `GET /sitemap.xml`: the storefront's pages for search engines (the sitemaps.org protocol):
//! the home page, every category page, every published collection's page and every active
//! product's page at its current slug, with the day it last changed. A sitemap holds at most
//! 50,000 addresses; a larger shop gets a sitemap index naming `?page=0` (home, categories and
//! collections) and `?page=1..` (products, in id order).
//!
//! `GET /robots.txt` names it for crawlers. Addresses start with `CATALOG_STOREFRONT_URL`, or else the scheme and host the request came
//! to (behind a proxy, its `x-forwarded-proto`), which is what the embedded shop serves.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use crate::domain::ProductStatus;
use crate::service::CatalogService;
use crate::store::{ProductFilter, StoreError};

/// The protocol's limit of addresses per sitemap.
pub const URLS_PER_SITEMAP: usize = 50_000;

pub struct Sitemaps {
    service: Arc<CatalogService>,
    storefront_url: Option<String>,
}

impl Sitemaps {
    pub fn new(service: Arc<CatalogService>, storefront_url: Option<String>) -> Self {
        Self {
            service,
            storefront_url,
        }
    }

    pub fn routes(self: Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/sitemap.xml", axum::routing::get(serve))
            .route("/robots.txt", axum::routing::get(robots))
            .with_state(self)
    }
}

/// The storefront's address: configured, or where the request came (a host of letters,
/// digits, dots, dashes, a port or brackets only: it is written into every address).
fn base_for(storefront_url: Option<&str>, headers: &HeaderMap) -> Option<String> {
    if let Some(url) = storefront_url {
        return Some(url.trim_end_matches('/').to_string());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    valid.then(|| format!("{scheme}://{host}"))
}

/// `GET /robots.txt`: crawlers may read the shop but not its dashboard, cart, checkout or
/// account pages, and find the sitemap.
async fn robots(State(sitemaps): State<Arc<Sitemaps>>, headers: HeaderMap) -> Response {
    let sitemap = base_for(sitemaps.storefront_url.as_deref(), &headers)
        .map(|base| format!("Sitemap: {base}/sitemap.xml\n"))
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        format!(
            "User-agent: *\nDisallow: /admin\nDisallow: /cart\nDisallow: /checkout\nDisallow: /account\n{sitemap}"
        ),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Page {
    page: Option<usize>,
}

async fn serve(
    State(sitemaps): State<Arc<Sitemaps>>,
    Query(page): Query<Page>,
    headers: HeaderMap,
) -> Response {
    let Some(base) = base_for(sitemaps.storefront_url.as_deref(), &headers) else {
        return (StatusCode::BAD_REQUEST, "a Host header is needed").into_response();
    };
    match sitemap(&sitemaps.service, &base, page.page, URLS_PER_SITEMAP).await {
        Ok(Some(xml)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml; charset=utf-8"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            xml,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "building the sitemap failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The sitemap (or index) for `page`, with at most `per_sitemap` addresses in each; `None`
/// for a page past the end.
pub async fn sitemap(
    service: &CatalogService,
    base: &str,
    page: Option<usize>,
    per_sitemap: usize,
) -> Result<Option<String>, StoreError> {
    let store = &service.store;
    let active = ProductFilter {
        status: Some(ProductStatus::Active.as_str().into()),
        ..Default::default()
    };
    let products = store.count_products(&active).await?.max(0) as usize;
    let mut categories = store.categories().await?;
    categories.sort_by(|a, b| a.slug.cmp(&b.slug));
    let collections = store.collections().await?;
    let fixed: Vec<(String, Option<i64>)> = std::iter::once((format!("{base}/"), None))
        .chain(
            categories
                .iter()
                .map(|c| (format!("{base}/c/{}", c.slug), None)),
        )
        .chain(
            collections
                .iter()
                .filter(|c| c.published)
                .map(|c| (format!("{base}/collections/{}", c.slug), Some(c.updated_at))),
        )
        .collect();
    let product_urls = |rows: Vec<(String, i64)>| {
        rows.into_iter()
            .map(|(slug, updated)| (format!("{base}/p/{slug}"), Some(updated)))
            .collect::<Vec<_>>()
    };
    let paged = fixed.len() + products > per_sitemap;
    Ok(match (page, paged) {
        (None, false) => {
            let mut urls = fixed;
            urls.extend(product_urls(
                store.active_product_slugs(0, per_sitemap).await?,
            ));
            Some(urlset(&urls))
        }
        (None, true) => {
            let pages = products.div_ceil(per_sitemap);
            Some(index(base, pages))
        }
        (Some(0), true) => Some(urlset(&fixed)),
        (Some(n), true) if (n - 1) * per_sitemap < products => {
            let rows = store
                .active_product_slugs((n - 1) * per_sitemap, per_sitemap)
                .await?;
            Some(urlset(&product_urls(rows)))
        }
        (Some(_), _) => None,
    })
}

fn urlset(urls: &[(String, Option<i64>)]) -> String {
    let mut xml = String::with_capacity(100 + urls.len() * 120);
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    xml.push_str("\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (url, changed) in urls {
        xml.push_str("<url><loc>");
        xml.push_str(&escape(url));
        xml.push_str("</loc>");
        if let Some(changed) = changed {
            xml.push_str("<lastmod>");
            xml.push_str(&primitives::time::format_millis(*changed)[..10]);
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

fn index(base: &str, product_pages: usize) -> String {
    let mut xml = String::new();
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    xml.push_str("\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for page in 0..=product_pages {
        xml.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            escape(&format!("{base}/sitemap.xml?page={page}"))
        ));
    }
    xml.push_str("</sitemapindex>\n");
    xml
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_escaped_and_days_written() {
        let xml = urlset(&[
            ("https://shop.example/c/a&b".into(), None),
            ("https://shop.example/p/tee".into(), Some(1_700_000_000_000)),
        ]);
        assert!(
            xml.contains("<loc>https://shop.example/c/a&amp;b</loc>"),
            "{xml}"
        );
        assert!(
            xml.contains("<loc>https://shop.example/p/tee</loc><lastmod>2023-11-14</lastmod>"),
            "{xml}"
        );
        let index = index("https://shop.example", 2);
        assert_eq!(index.matches("<sitemap>").count(), 3);
        assert!(index.contains("sitemap.xml?page=2"));
    }

    #[test]
    fn the_base_is_configured_or_the_requests_host() {
        let base = |url: Option<&str>, host: Option<&str>, proto: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(host) = host {
                headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            }
            if let Some(proto) = proto {
                headers.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
            }
            base_for(url, &headers)
        };
        assert_eq!(
            base(Some("https://shop.example/"), Some("evil.example"), None),
            Some("https://shop.example".into())
        );
        assert_eq!(
            base(None, Some("127.0.0.1:4000"), None),
            Some("http://127.0.0.1:4000".into())
        );
        assert_eq!(
            base(None, Some("shop.example"), Some("https")),
            Some("https://shop.example".into())
        );
        assert_eq!(base(None, Some("a\"b"), None), None);
        assert_eq!(base(None, None, None), None);
    }
}
