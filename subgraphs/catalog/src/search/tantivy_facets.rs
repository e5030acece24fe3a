//! Facet counts for the tantivy engine, read straight from the fast fields: each term field
//! counts its term ordinals in an array per segment, and prices fall into [`PRICE_BUCKETS`].
//! Counting every facet over the whole catalog (a shopper browsing everything) is the costliest
//! part of a search, and tantivy's general aggregations spent several times longer on it
//! (building JSON requests, hash maps per bucket).

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnBlockAccessor, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::{SearchRequest, PRICE_BUCKETS};

/// The term fields counted, in the order of [`FacetCounts::terms`].
pub const TERM_FACETS: [(&str, usize); 4] = [
    // (fast field, most buckets kept)
    ("brand_id", 100),
    ("category_id", 200),
    ("option", 200),
    ("attribute", 200),
];

/// Matching documents per facet value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FacetCounts {
    /// Per [`TERM_FACETS`] entry: `(value, documents)`, most frequent first, ties by value.
    pub terms: Vec<Vec<(String, u64)>>,
    /// Per [`PRICE_BUCKETS`] entry, empty buckets included.
    pub prices: Vec<u64>,
}

pub struct FacetCollector;

/// One term field of one segment: a count per term ordinal, and the last document counted
/// for it, so a document with a value twice counts once.
struct TermCounter {
    column: StrColumn,
    counts: Vec<u64>,
    last_doc: Vec<DocId>,
    block: ColumnBlockAccessor<u64>,
}

impl TermCounter {
    fn new(column: StrColumn) -> Self {
        let terms = column.num_terms();
        Self {
            column,
            counts: vec![0; terms],
            last_doc: vec![DocId::MAX; terms],
            block: ColumnBlockAccessor::default(),
        }
    }

    /// Counts a block of documents (in increasing order) at once, as tantivy reads columns
    /// fastest.
    fn count(&mut self, docs: &[DocId]) {
        let Self {
            column,
            counts,
            last_doc,
            block,
        } = self;
        block.fetch_block(docs, column.ords());
        for (doc, ord) in block.iter_docid_vals(docs, column.ords()) {
            let ord = ord as usize;
            if last_doc[ord] != doc {
                last_doc[ord] = doc;
                counts[ord] += 1;
            }
        }
    }

    fn harvest(self) -> tantivy::Result<Vec<(String, u64)>> {
        let mut values = Vec::new();
        for (ord, count) in self.counts.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            let mut value = String::new();
            if self.column.ord_to_str(ord as u64, &mut value)? {
                values.push((value, count));
            }
        }
        Ok(values)
    }
}

/// Documents are counted in blocks of this many.
const BLOCK: usize = 64;

pub struct FacetSegmentCollector {
    /// Per [`TERM_FACETS`] entry; `None` where the segment has no value of that field.
    terms: Vec<Option<TermCounter>>,
    price: Column<i64>,
    price_block: ColumnBlockAccessor<i64>,
    prices: Vec<u64>,
    /// Documents collected one at a time (a search by relevance), counted a block at a time.
    pending: Vec<DocId>,
}

impl FacetSegmentCollector {
    fn count(&mut self, docs: &[DocId]) {
        for counter in self.terms.iter_mut().flatten() {
            counter.count(docs);
        }
        self.price_block.fetch_block(docs, &self.price);
        for price in self.price_block.iter_vals() {
            let bucket = PRICE_BUCKETS
                .iter()
                .position(|(from, to)| price >= *from && to.is_none_or(|to| price < to));
            if let Some(bucket) = bucket {
                self.prices[bucket] += 1;
            }
        }
    }

    fn count_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.count(&pending);
        self.pending = pending;
        self.pending.clear();
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = tantivy::Result<FacetCounts>;

    #[inline]
    fn collect(&mut self, doc: DocId, _score: Score) {
        self.pending.push(doc);
        if self.pending.len() == BLOCK {
            self.count_pending();
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.count_pending();
        self.count(docs);
    }

    fn harvest(mut self) -> Self::Fruit {
        self.count_pending();
        let terms = self
            .terms
            .into_iter()
            .map(|counter| counter.map_or(Ok(Vec::new()), TermCounter::harvest))
            .collect::<tantivy::Result<_>>()?;
        Ok(FacetCounts {
            terms,
            prices: self.prices,
        })
    }
}

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        let fast = reader.fast_fields();
        let terms = TERM_FACETS
            .iter()
            .map(|(field, _)| Ok(fast.str(field)?.map(TermCounter::new)))
            .collect::<tantivy::Result<_>>()?;
        Ok(FacetSegmentCollector {
            terms,
            price: fast.i64("price")?,
            price_block: ColumnBlockAccessor::default(),
            prices: vec![0; PRICE_BUCKETS.len()],
            pending: Vec::with_capacity(BLOCK),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<tantivy::Result<FacetCounts>>,
    ) -> tantivy::Result<FacetCounts> {
        let mut terms: Vec<HashMap<String, u64>> = vec![HashMap::new(); TERM_FACETS.len()];
        let mut prices = vec![0; PRICE_BUCKETS.len()];
        for segment in segments {
            let segment = segment?;
            for (total, counts) in terms.iter_mut().zip(segment.terms) {
                for (value, count) in counts {
                    *total.entry(value).or_default() += count;
                }
            }
            for (total, count) in prices.iter_mut().zip(segment.prices) {
                *total += count;
            }
        }
        let terms = terms
            .into_iter()
            .zip(TERM_FACETS)
            .map(|(counts, (_, keep))| {
                let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                counts.truncate(keep);
                counts
            })
            .collect();
        Ok(FacetCounts { terms, prices })
    }
}

/// What decides a search's total and facet counts: everything in the request but its sort and
/// page.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FacetKey {
    query: String,
    category_id: Option<String>,
    brand_ids: Vec<String>,
    min_price_minor: Option<i64>,
    max_price_minor: Option<i64>,
    option_values: Vec<String>,
    attribute_values: Vec<String>,
}

impl FacetKey {
    pub fn of(request: &SearchRequest) -> Self {
        Self {
            query: request.query.clone(),
            category_id: request.category_id.clone(),
            brand_ids: request.brand_ids.clone(),
            min_price_minor: request.min_price_minor,
            max_price_minor: request.max_price_minor,
            option_values: request.option_values.clone(),
            attribute_values: request.attribute_values.clone(),
        }
    }
}

/// A search's total and its facet counts.
pub type Counted = (usize, FacetCounts);

/// The counts kept for one index generation.
#[derive(Default)]
struct Generation {
    id: u64,
    searches: HashMap<FacetKey, Counted>,
}

/// At most this many searches' counts are kept; past it the cache starts over.
const CACHED_SEARCHES: usize = 1024;

/// Totals and facet counts of recent searches, valid for the index generation they were
/// counted on: the next page, another sort or another shopper browsing the same listing reuse
/// them (counting every facet of the whole catalog is most of a broad search's time), and any
/// change to the index starts the cache over.
#[derive(Default)]
pub struct FacetCache {
    entries: Mutex<Generation>,
}

impl FacetCache {
    /// The counts of `key` on index generation `generation`, if counted.
    pub fn get(&self, generation: u64, key: &FacetKey) -> Option<Counted> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.id != generation {
            return None;
        }
        entries.searches.get(key).cloned()
    }

    pub fn put(&self, generation: u64, key: FacetKey, total: usize, counts: FacetCounts) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.id != generation {
            // Only a newer generation replaces the cache (a slow search of an older one does not).
            if generation < entries.id {
                return;
            }
            *entries = Generation {
                id: generation,
                searches: HashMap::new(),
            };
        }
        if entries.searches.len() >= CACHED_SEARCHES {
            entries.searches.clear();
        }
        entries.searches.insert(key, (total, counts));
    }
}
