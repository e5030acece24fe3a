//! What every search engine must do. The embedded engine runs here always; Meilisearch runs where
//! `MEILISEARCH_URL` is set.

use std::sync::Arc;

use catalog::search::tantivy_engine::TantivyEngine;
use catalog::search::{SearchDocument, SearchEngine, SearchRequest, SearchSort};

fn doc(
    id: &str,
    name: &str,
    brand: &str,
    category_path: &[&str],
    price: i64,
    created: i64,
) -> SearchDocument {
    SearchDocument {
        id: id.into(),
        sku: format!("SKU-{id}"),
        name: name.into(),
        description: format!("{name}, a fine thing."),
        brand_id: Some(format!("brand_{}", brand.to_lowercase())),
        brand_name: Some(brand.into()),
        category_id: category_path.last().unwrap().to_string(),
        category_path: category_path.iter().map(|s| s.to_string()).collect(),
        category_names: category_path
            .iter()
            .map(|s| s.trim_start_matches("cat_").to_string())
            .collect(),
        price_minor: price,
        created_at: created,
        options: Vec::new(),
        attributes: Vec::new(),
    }
}

/// `doc` with variants of these option values on sale (["Colour:Red", "Size:M"]).
fn with_options(mut doc: SearchDocument, options: &[&str]) -> SearchDocument {
    doc.options = options.iter().map(|o| o.to_string()).collect();
    doc
}

/// `doc` with these attribute values (["Material:Leather"]).
fn with_attributes(mut doc: SearchDocument, attributes: &[&str]) -> SearchDocument {
    doc.attributes = attributes.iter().map(|a| a.to_string()).collect();
    doc
}

fn corpus() -> Vec<SearchDocument> {
    let mut docs = vec![
        with_options(
            doc(
                "p1",
                "Leather Hiking Boots",
                "Kestrel",
                &["cat_apparel", "cat_shoes"],
                12_900,
                1,
            ),
            &["Colour:Brown", "Size:42", "Size:43"],
        ),
        with_options(
            doc(
                "p2",
                "Suede Chelsea Boots",
                "Summit",
                &["cat_apparel", "cat_shoes"],
                9_900,
                2,
            ),
            &["Colour:Black", "Colour:Brown", "Size:42"],
        ),
        with_options(
            doc(
                "p3",
                "Canvas Sneakers",
                "Kestrel",
                &["cat_apparel", "cat_shoes"],
                4_500,
                3,
            ),
            &["Colour:Black", "Size:43"],
        ),
        doc(
            "p4",
            "Wireless Headphones",
            "Lumen",
            &["cat_electronics", "cat_audio"],
            19_900,
            4,
        ),
        doc(
            "p5",
            "Bluetooth Speaker",
            "Lumen",
            &["cat_electronics", "cat_audio"],
            2_400,
            5,
        ),
        doc(
            "p6",
            "Leather Wallet",
            "Summit",
            &["cat_apparel", "cat_bags"],
            3_900,
            6,
        ),
    ];
    let attributes: [(&str, &[&str]); 4] = [
        ("p1", &["Material:Leather", "Waterproof:true"]),
        ("p2", &["Material:Suede", "Waterproof:false"]),
        ("p3", &["Material:Canvas", "Waterproof:false"]),
        ("p6", &["Material:Leather"]),
    ];
    for (id, values) in attributes {
        let at = docs.iter().position(|d| d.id == id).unwrap();
        docs[at] = with_attributes(docs[at].clone(), values);
    }
    docs
}

async fn engines() -> Vec<(&'static str, Arc<dyn SearchEngine>)> {
    let mut engines: Vec<(&'static str, Arc<dyn SearchEngine>)> =
        vec![("tantivy", Arc::new(TantivyEngine::in_memory().unwrap()))];
    if let Some(engine) = catalog::search::meilisearch_engine::from_env_for_tests().await {
        engines.push(("meilisearch", engine));
    }
    for (_, engine) in &engines {
        engine.clear().await.unwrap();
        engine.apply(corpus(), Vec::new()).await.unwrap();
    }
    engines
}

fn request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        limit: 20,
        ..Default::default()
    }
}

#[tokio::test]
async fn engines_match_words_with_typos_and_prefixes() {
    for (name, engine) in engines().await {
        let hits = |q: &'static str| {
            let engine = engine.clone();
            async move {
                let mut ids = engine.search(request(q)).await.unwrap().ids;
                ids.sort();
                ids
            }
        };
        assert_eq!(hits("boots").await, vec!["p1", "p2"], "{name}");
        assert_eq!(
            hits("bootss").await,
            vec!["p1", "p2"],
            "{name}: one typo in a 6-letter word"
        );
        assert_eq!(
            hits("lether boots").await,
            vec!["p1"],
            "{name}: typo in a non-final word"
        );
        assert_eq!(
            hits("headph").await,
            vec!["p4"],
            "{name}: the last word is a prefix"
        );
        assert_eq!(
            hits("kestrel").await,
            vec!["p1", "p3"],
            "{name}: brand names match"
        );
        assert_eq!(
            hits("leather zebra").await,
            Vec::<String>::new(),
            "{name}: every word must match"
        );
        assert_eq!(hits("").await.len(), 6, "{name}: no words match everything");
        for hostile in [
            "'; DROP TABLE products; --",
            "name:(boots OR",
            "\"",
            "*",
            "~2^3 AND NOT",
        ] {
            engine
                .search(request(hostile))
                .await
                .unwrap_or_else(|e| panic!("{name}: {hostile:?}: {e}"));
        }
    }
}

#[tokio::test]
async fn engines_filter_sort_page_and_count_facets() {
    for (name, engine) in engines().await {
        let all = engine.search(request("")).await.unwrap();
        assert_eq!(all.total, 6, "{name}");
        assert_eq!(all.brands.iter().map(|(_, n)| n).sum::<u64>(), 6, "{name}");
        assert!(
            all.brands.contains(&("brand_kestrel".into(), 2)),
            "{name}: {:?}",
            all.brands
        );
        assert!(
            all.categories.contains(&("cat_shoes".into(), 3)),
            "{name}: {:?}",
            all.categories
        );
        // Buckets: <25, 25-50, 50-100, 100-250, 250-500, >=500 dollars.
        assert_eq!(all.prices, vec![1, 2, 1, 2, 0, 0], "{name}");

        let shoes = engine
            .search(SearchRequest {
                category_id: Some("cat_apparel".into()),
                brand_ids: vec!["brand_kestrel".into()],
                ..request("")
            })
            .await
            .unwrap();
        assert_eq!(
            shoes.total, 2,
            "{name}: category filters include subcategories"
        );
        let priced = engine
            .search(SearchRequest {
                min_price_minor: Some(3_900),
                max_price_minor: Some(12_900),
                sort: SearchSort::PriceAscending,
                ..request("")
            })
            .await
            .unwrap();
        assert_eq!(
            priced.ids,
            vec!["p6", "p3", "p2", "p1"],
            "{name}: inclusive range, price order"
        );
        let newest = engine
            .search(SearchRequest {
                sort: SearchSort::Newest,
                limit: 2,
                ..request("")
            })
            .await
            .unwrap();
        assert_eq!(newest.ids, vec!["p6", "p5"], "{name}");
        let page2 = engine
            .search(SearchRequest {
                sort: SearchSort::Newest,
                limit: 2,
                offset: 2,
                ..request("")
            })
            .await
            .unwrap();
        assert_eq!(
            (page2.ids, page2.total),
            (vec!["p4".to_string(), "p3".to_string()], 6),
            "{name}"
        );
    }
}

#[tokio::test]
async fn engines_count_and_filter_option_values() {
    for (name, engine) in engines().await {
        let all = engine.search(request("")).await.unwrap();
        let mut options = all.options.clone();
        options.sort();
        assert_eq!(
            options,
            vec![
                ("Colour:Black".to_string(), 2),
                ("Colour:Brown".to_string(), 2),
                ("Size:42".to_string(), 2),
                ("Size:43".to_string(), 2),
            ],
            "{name}"
        );
        let filtered = |values: &[&str]| SearchRequest {
            option_values: values.iter().map(|v| v.to_string()).collect(),
            sort: SearchSort::Newest,
            ..request("")
        };
        // Values of one option are alternatives; different options must all match.
        let brown_or_black = engine
            .search(filtered(&["Colour:Brown", "Colour:Black"]))
            .await
            .unwrap();
        assert_eq!(brown_or_black.ids, vec!["p3", "p2", "p1"], "{name}");
        let black_43 = engine
            .search(filtered(&["Colour:Black", "Size:43"]))
            .await
            .unwrap();
        assert_eq!(black_43.ids, vec!["p3"], "{name}");
        // Facets count within the filter.
        let boots = engine
            .search(SearchRequest {
                option_values: vec!["Size:42".into()],
                ..request("boots")
            })
            .await
            .unwrap();
        assert!(
            boots.options.contains(&("Colour:Brown".into(), 2)),
            "{name}: {:?}",
            boots.options
        );
    }
}

#[tokio::test]
async fn engines_count_and_filter_attribute_values() {
    for (name, engine) in engines().await {
        let all = engine.search(request("")).await.unwrap();
        let mut attributes = all.attributes.clone();
        attributes.sort();
        assert_eq!(
            attributes,
            vec![
                ("Material:Canvas".to_string(), 1),
                ("Material:Leather".to_string(), 2),
                ("Material:Suede".to_string(), 1),
                ("Waterproof:false".to_string(), 2),
                ("Waterproof:true".to_string(), 1),
            ],
            "{name}"
        );
        let filtered = |values: &[&str]| SearchRequest {
            attribute_values: values.iter().map(|v| v.to_string()).collect(),
            sort: SearchSort::Newest,
            ..request("")
        };
        // Values of one attribute are alternatives; different attributes must all match.
        let leather_or_suede = engine
            .search(filtered(&["Material:Leather", "Material:Suede"]))
            .await
            .unwrap();
        assert_eq!(leather_or_suede.ids, vec!["p6", "p2", "p1"], "{name}");
        let dry_leather = engine
            .search(filtered(&["Material:Leather", "Waterproof:true"]))
            .await
            .unwrap();
        assert_eq!(dry_leather.ids, vec!["p1"], "{name}");
        // With an option filter too, both must match; facets count within the filters.
        let black_not_waterproof = engine
            .search(SearchRequest {
                option_values: vec!["Colour:Black".into()],
                ..filtered(&["Waterproof:false"])
            })
            .await
            .unwrap();
        assert_eq!(black_not_waterproof.ids, vec!["p3", "p2"], "{name}");
        assert!(
            black_not_waterproof
                .attributes
                .contains(&("Material:Canvas".into(), 1)),
            "{name}: {:?}",
            black_not_waterproof.attributes
        );
    }
}

#[tokio::test]
async fn engines_apply_updates_and_removals() {
    for (name, engine) in engines().await {
        let mut renamed = corpus()[2].clone();
        renamed.name = "Canvas Espadrilles".into();
        renamed.description = "Light summer shoes.".into();
        engine
            .apply(vec![renamed], vec!["p1".into()])
            .await
            .unwrap();
        assert_eq!(engine.document_count().await.unwrap(), 5, "{name}");
        assert_eq!(
            engine.search(request("espadrilles")).await.unwrap().ids,
            vec!["p3"],
            "{name}"
        );
        assert!(
            engine
                .search(request("sneakers"))
                .await
                .unwrap()
                .ids
                .is_empty(),
            "{name}"
        );
        assert_eq!(
            engine.search(request("boots")).await.unwrap().ids,
            vec!["p2"],
            "{name}"
        );
        engine.clear().await.unwrap();
        assert_eq!(engine.search(request("")).await.unwrap().total, 0, "{name}");
    }
}

#[tokio::test]
async fn engines_count_a_repeated_search_afresh_after_a_change() {
    for (name, engine) in engines().await {
        let browse = |page: usize| SearchRequest {
            sort: SearchSort::Newest,
            offset: page * 2,
            limit: 2,
            ..Default::default()
        };
        let before = engine.search(browse(0)).await.unwrap();
        // Another page of the same listing counts the same.
        let next_page = engine.search(browse(1)).await.unwrap();
        assert_eq!(
            (next_page.total, &next_page.brands, &next_page.options),
            (before.total, &before.brands, &before.options),
            "{name}"
        );
        let count = |results: &catalog::search::SearchResults, facet: &str| {
            results
                .options
                .iter()
                .find(|(key, _)| key == facet)
                .map_or(0, |(_, n)| *n)
        };
        let boots = with_options(
            doc(
                "p9",
                "Rain Boots",
                "Kestrel",
                &["cat_apparel", "cat_shoes"],
                5_000,
                9,
            ),
            &["Colour:Brown"],
        );
        engine.apply(vec![boots], Vec::new()).await.unwrap();
        let after = engine.search(browse(0)).await.unwrap();
        assert_eq!(after.total, before.total + 1, "{name}");
        assert_eq!(
            count(&after, "Colour:Brown"),
            count(&before, "Colour:Brown") + 1,
            "{name}"
        );
        assert_eq!(after.ids[0], "p9", "{name}: the newest first");
        engine.apply(Vec::new(), vec!["p9".into()]).await.unwrap();
        let removed = engine.search(browse(0)).await.unwrap();
        assert_eq!(
            (removed.total, &removed.options),
            (before.total, &before.options),
            "{name}"
        );
    }
}
