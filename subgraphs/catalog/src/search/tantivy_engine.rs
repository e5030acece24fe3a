//! The embedded search engine on tantivy: an index directory under the data directory (or in
//! memory for tests). Queries are built from words, never parsed as query syntax.

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TantivyDocument, Value, FAST, INDEXED, STORED, STRING, TEXT,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, Term};

use super::tantivy_facets::{Counted, FacetCache, FacetCollector, FacetCounts, FacetKey};
use super::*;

struct Fields {
    id: Field,
    sku: Field,
    name: Field,
    description: Field,
    brand_name: Field,
    category_names: Field,
    brand_id: Field,
    category_id: Field,
    category_path: Field,
    price: Field,
    created: Field,
    option: Field,
    attribute: Field,
}

pub struct TantivyEngine {
    index: Index,
    reader: IndexReader,
    writer: Arc<Mutex<IndexWriter>>,
    fields: Arc<Fields>,
    facet_cache: Arc<FacetCache>,
}

fn index_error(e: impl std::fmt::Display) -> SearchError {
    SearchError::Index(e.to_string())
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        sku: builder.add_text_field("sku", STRING),
        name: builder.add_text_field("name", TEXT),
        description: builder.add_text_field("description", TEXT),
        brand_name: builder.add_text_field("brand_name", TEXT),
        category_names: builder.add_text_field("category_names", TEXT),
        brand_id: builder.add_text_field("brand_id", STRING | FAST),
        category_id: builder.add_text_field("category_id", STRING | FAST),
        category_path: builder.add_text_field("category_path", STRING),
        price: builder.add_i64_field("price", INDEXED | FAST),
        created: builder.add_i64_field("created", FAST),
        option: builder.add_text_field("option", STRING | FAST),
        attribute: builder.add_text_field("attribute", STRING | FAST),
    };
    (builder.build(), fields)
}

impl TantivyEngine {
    /// An index in `dir`, created when missing. An index written with another schema (an
    /// older version) is replaced by an empty one, which the catalog rebuilds at start.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(index_error)?;
        let (schema, fields) = schema();
        let stale = Index::open_in_dir(dir).is_ok_and(|index| index.schema() != schema);
        if stale {
            tracing::warn!(dir = %dir.display(), "search index schema changed: rebuilding it");
            std::fs::remove_dir_all(dir).map_err(index_error)?;
            std::fs::create_dir_all(dir).map_err(index_error)?;
        }
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(index_error)?;
        let index = Index::open_or_create(directory, schema).map_err(index_error)?;
        Self::with_index(index, fields)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        let writer = index.writer(64 * 1024 * 1024).map_err(index_error)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(index_error)?;
        Ok(Self {
            index,
            reader,
            writer: Arc::new(Mutex::new(writer)),
            fields: Arc::new(fields),
            facet_cache: Arc::new(FacetCache::default()),
        })
    }

    fn document(&self, doc: &SearchDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.sku, &doc.sku);
        d.add_text(f.name, &doc.name);
        d.add_text(f.description, &doc.description);
        if let (Some(id), Some(name)) = (&doc.brand_id, &doc.brand_name) {
            d.add_text(f.brand_id, id);
            d.add_text(f.brand_name, name);
        }
        d.add_text(f.category_id, &doc.category_id);
        for id in &doc.category_path {
            d.add_text(f.category_path, id);
        }
        for name in &doc.category_names {
            d.add_text(f.category_names, name);
        }
        d.add_i64(f.price, doc.price_minor);
        d.add_i64(f.created, doc.created_at);
        for option in &doc.options {
            d.add_text(f.option, option);
        }
        for attribute in &doc.attributes {
            d.add_text(f.attribute, attribute);
        }
        d
    }

    fn text_query(&self, text: &str) -> Result<Box<dyn Query>, SearchError> {
        let f = &self.fields;
        let mut analyzer = self
            .index
            .tokenizer_for_field(f.name)
            .map_err(index_error)?;
        let mut words = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            if words.len() < 10 {
                words.push(stream.token().text.clone());
            }
        }
        if words.is_empty() {
            return Ok(Box::new(AllQuery));
        }
        let last = words.len() - 1;
        let mut per_word: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let budget = typo_budget(word);
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in [(f.name, 3.0), (f.brand_name, 2.0), (f.category_names, 1.5)] {
                let term = Term::from_field_text(field, word);
                // The last word may be unfinished: match it as a prefix too.
                let query: Box<dyn Query> = if i == last {
                    Box::new(FuzzyTermQuery::new_prefix(term, budget, true))
                } else if budget > 0 {
                    Box::new(FuzzyTermQuery::new(term, budget, true))
                } else {
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
                };
                alternatives.push((Occur::Should, Box::new(BoostQuery::new(query, boost))));
            }
            alternatives.push((
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.description, word),
                    IndexRecordOption::WithFreqs,
                )),
            ));
            alternatives.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.sku, &word.to_uppercase()),
                        IndexRecordOption::Basic,
                    )),
                    5.0,
                )),
            ));
            per_word.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
        Ok(Box::new(BooleanQuery::new(per_word)))
    }

    fn query(&self, request: &SearchRequest) -> Result<Box<dyn Query>, SearchError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, self.text_query(&request.query)?)];
        if let Some(category) = &request.category_id {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.category_path, category),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if !request.brand_ids.is_empty() {
            let any_brand = request
                .brand_ids
                .iter()
                .map(|b| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(f.brand_id, b),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_brand))));
        }
        let facet_filters = [
            (f.option, &request.option_values),
            (f.attribute, &request.attribute_values),
        ];
        for (field, keys) in facet_filters {
            for (_, keys) in option_groups(keys) {
                let any_value = keys
                    .into_iter()
                    .map(|key| {
                        let q: Box<dyn Query> = Box::new(TermQuery::new(
                            Term::from_field_text(field, key),
                            IndexRecordOption::Basic,
                        ));
                        (Occur::Should, q)
                    })
                    .collect();
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_value))));
            }
        }
        if request.min_price_minor.is_some() || request.max_price_minor.is_some() {
            let lower = request.min_price_minor.map_or(Bound::Unbounded, |v| {
                Bound::Included(Term::from_field_i64(f.price, v))
            });
            let upper = request.max_price_minor.map_or(Bound::Unbounded, |v| {
                Bound::Included(Term::from_field_i64(f.price, v))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn run_search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let query = self.query(request)?;
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = FacetKey::of(request);
        let cached = self.facet_cache.get(generation, &key);
        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        let (addresses, counted) = match request.sort {
            SearchSort::Relevance => {
                let (hits, counted) = collect(&searcher, &query, top, cached.is_none())?;
                (
                    hits.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
                    counted,
                )
            }
            SearchSort::PriceAscending | SearchSort::PriceDescending | SearchSort::Newest => {
                let (field, order) = match request.sort {
                    SearchSort::PriceAscending => ("price", Order::Asc),
                    SearchSort::PriceDescending => ("price", Order::Desc),
                    _ => ("created", Order::Desc),
                };
                let top = top.order_by_fast_field::<i64>(field, order);
                let (hits, counted) = collect(&searcher, &query, top, cached.is_none())?;
                (hits.into_iter().map(|(_, a)| a).collect(), counted)
            }
        };
        let (total, facets) = match (cached, counted) {
            (Some(cached), _) => cached,
            (None, Some(counted)) => {
                self.facet_cache
                    .put(generation, key, counted.0, counted.1.clone());
                counted
            }
            (None, None) => return Err(SearchError::Index("facets were not counted".into())),
        };
        let ids = self.ids_of(&searcher, &addresses)?;
        let request_limit_hits = if request.limit == 0 { Vec::new() } else { ids };
        let FacetCounts { terms, prices } = facets;
        let [brands, categories, options, attributes]: [Vec<(String, u64)>; 4] =
            terms
                .try_into()
                .map_err(|_| SearchError::Index("a facet is missing".into()))?;
        Ok(SearchResults {
            ids: request_limit_hits,
            total: total as u64,
            brands,
            categories,
            prices,
            options,
            attributes,
        })
    }

    fn ids_of(
        &self,
        searcher: &Searcher,
        addresses: &[DocAddress],
    ) -> Result<Vec<String>, SearchError> {
        addresses
            .iter()
            .map(|address| {
                let doc: TantivyDocument = searcher.doc(*address).map_err(index_error)?;
                doc.get_first(self.fields.id)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| SearchError::Index("document without id".into()))
            })
            .collect()
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        writer.commit().map_err(index_error)?;
        self.reader.reload().map_err(index_error)
    }
}

/// The hits of `top` and, when `count` is set, the total and the facet counts, in one pass.
fn collect<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    top: C,
    count: bool,
) -> Result<(C::Fruit, Option<Counted>), SearchError> {
    if count {
        let (hits, total, facets) = searcher
            .search(query, &(top, Count, FacetCollector))
            .map_err(index_error)?;
        Ok((hits, Some((total, facets))))
    } else {
        Ok((searcher.search(query, &top).map_err(index_error)?, None))
    }
}

#[async_trait]
impl SearchEngine for TantivyEngine {
    async fn apply(
        &self,
        upserts: Vec<SearchDocument>,
        removals: Vec<String>,
    ) -> Result<(), SearchError> {
        let documents: Vec<TantivyDocument> = upserts.iter().map(|d| self.document(d)).collect();
        let ids: Vec<String> = upserts.into_iter().map(|d| d.id).chain(removals).collect();
        let writer = self.writer.clone();
        let id_field = self.fields.id;
        let this = self.clone_handle();
        tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            for id in &ids {
                writer.delete_term(Term::from_field_text(id_field, id));
            }
            for document in documents {
                writer.add_document(document).map_err(index_error)?;
            }
            this.commit(&mut writer)
        })
        .await
        .map_err(index_error)?
    }

    async fn clear(&self) -> Result<(), SearchError> {
        let writer = self.writer.clone();
        let this = self.clone_handle();
        tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            writer.delete_all_documents().map_err(index_error)?;
            this.commit(&mut writer)
        })
        .await
        .map_err(index_error)?
    }

    async fn search(&self, request: SearchRequest) -> Result<SearchResults, SearchError> {
        let this = self.clone_handle();
        tokio::task::spawn_blocking(move || this.run_search(&request))
            .await
            .map_err(index_error)?
    }

    async fn document_count(&self) -> Result<u64, SearchError> {
        Ok(self.reader.searcher().num_docs())
    }
}

impl TantivyEngine {
    /// A cheap handle for blocking tasks (index, reader and writer are shared).
    fn clone_handle(&self) -> Self {
        Self {
            index: self.index.clone(),
            reader: self.reader.clone(),
            writer: self.writer.clone(),
            fields: self.fields.clone(),
            facet_cache: self.facet_cache.clone(),
        }
    }
}
