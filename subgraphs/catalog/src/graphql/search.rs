//! `searchProducts`: full-text search with typo tolerance, filters, sorting and facet counts.

use std::collections::HashMap;

use async_graphql::connection::{Connection, ConnectionNameType, Edge, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, InputObject, Object, OutputType, SimpleObject, ID};
use commerce::money::{CurrencyCode, Money, MoneyObject};
use kit::pagination::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use kit::ApiError;

use super::loaders::categories;
use super::product::{parse_price_bound, Product};
use super::product::{Brand, Category};
use super::{service, BrandLoader, ProductIdLoader};
use crate::domain::{Attribute, OptionValue};
use crate::search::{option_facet, SearchRequest, SearchResults, SearchSort, PRICE_BUCKETS};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProductSearchSort {
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl From<ProductSearchSort> for SearchSort {
    fn from(sort: ProductSearchSort) -> Self {
        match sort {
            ProductSearchSort::Relevance => SearchSort::Relevance,
            ProductSearchSort::PriceAsc => SearchSort::PriceAscending,
            ProductSearchSort::PriceDesc => SearchSort::PriceDescending,
            ProductSearchSort::Newest => SearchSort::Newest,
        }
    }
}

#[derive(InputObject, Default)]
pub struct ProductSearchFilter {
    /// Products in this category or below it.
    pub category_id: Option<ID>,
    /// The same, by the category's slug (a category page's address); an unknown slug matches
    /// nothing.
    pub category_slug: Option<String>,
    /// Products of any of these brands.
    pub brand_ids: Option<Vec<ID>>,
    /// Decimal string, inclusive.
    pub min_price: Option<String>,
    /// Decimal string, inclusive.
    pub max_price: Option<String>,
    /// Products with a variant on sale of these option values: values of one option are
    /// alternatives (Colour Red or Blue), different options must all match (and Size M).
    pub option_values: Option<Vec<OptionValue>>,
    /// Products with these attribute values (choices and yes/no attributes of their category),
    /// combined as option values are.
    pub attribute_values: Option<Vec<Attribute>>,
}

/// How many matching products have each value of an option (a variant on sale of it) or of
/// an attribute.
#[derive(SimpleObject)]
pub struct OptionFacet {
    pub name: String,
    pub values: Vec<OptionValueFacet>,
}

#[derive(SimpleObject)]
pub struct OptionValueFacet {
    pub value: String,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct BrandFacet {
    pub brand: Brand,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct CategoryFacet {
    pub category: Category,
    pub count: i64,
}

/// Products priced from `min` (inclusive) up to `max` (exclusive; open when null).
#[derive(SimpleObject)]
pub struct PriceFacet {
    pub min: MoneyObject,
    pub max: Option<MoneyObject>,
    pub count: i64,
}

/// Counts over every product matching the query and filters, not only this page.
#[derive(SimpleObject, Default)]
pub struct SearchFacets {
    pub brands: Vec<BrandFacet>,
    pub categories: Vec<CategoryFacet>,
    pub prices: Vec<PriceFacet>,
    /// By option name (Colour: Red 12, Blue 7), values most frequent first.
    pub options: Vec<OptionFacet>,
    /// By attribute name (Material: Linen 4, Cotton 3), values most frequent first: the choices
    /// and yes/no attributes products' categories define.
    pub attributes: Vec<OptionFacet>,
}

pub struct SearchFields {
    total: u64,
    facets: SearchFacets,
}

#[Object]
impl SearchFields {
    /// Number of matching products.
    async fn total_count(&self) -> i64 {
        self.total as i64
    }

    async fn facets(&self) -> &SearchFacets {
        &self.facets
    }
}

pub struct ProductSearchConnectionName;

impl ConnectionNameType for ProductSearchConnectionName {
    fn type_name<T: OutputType>() -> String {
        "ProductSearchConnection".into()
    }
}

pub type ProductSearchConnection =
    Connection<String, Product, SearchFields, EmptyFields, ProductSearchConnectionName>;

/// An amount in the shop's currency (the one every price is in).
fn shop_money(currency: CurrencyCode, minor_units: i64) -> MoneyObject {
    Money {
        minor_units,
        currency,
    }
    .into()
}

async fn facets(ctx: &Context<'_>, results: &SearchResults) -> async_graphql::Result<SearchFacets> {
    let internal = |e: std::sync::Arc<crate::store::StoreError>| ApiError::internal(e.as_ref());
    let brand_ids: Vec<String> = results.brands.iter().map(|(id, _)| id.clone()).collect();
    let brands = ctx
        .data_unchecked::<DataLoader<BrandLoader>>()
        .load_many(brand_ids)
        .await
        .map_err(internal)?;
    let categories = categories(ctx).await?;
    let currency = service(ctx).currency();
    Ok(SearchFacets {
        brands: results
            .brands
            .iter()
            .filter_map(|(id, count)| {
                Some(BrandFacet {
                    brand: brands.get(id)?.clone().into(),
                    count: *count as i64,
                })
            })
            .collect(),
        categories: results
            .categories
            .iter()
            .filter_map(|(id, count)| {
                Some(CategoryFacet {
                    category: categories.get(id)?.clone().into(),
                    count: *count as i64,
                })
            })
            .collect(),
        prices: PRICE_BUCKETS
            .iter()
            .zip(&results.prices)
            .map(|((from, to), count)| PriceFacet {
                min: shop_money(currency, *from),
                max: to.map(|to| shop_money(currency, to)),
                count: *count as i64,
            })
            .collect(),
        options: option_facets(&results.options),
        attributes: option_facets(&results.attributes),
    })
}

/// Facet keys ("Colour:Blue") grouped by option (or attribute), in order of each one's first
/// value.
fn option_facets(counts: &[(String, u64)]) -> Vec<OptionFacet> {
    let mut facets: Vec<OptionFacet> = Vec::new();
    for (key, count) in counts {
        let Some((name, value)) = key.split_once(':') else {
            continue;
        };
        let value = OptionValueFacet {
            value: value.into(),
            count: *count as i64,
        };
        match facets.iter_mut().find(|f| f.name == name) {
            Some(facet) => facet.values.push(value),
            None => facets.push(OptionFacet {
                name: name.into(),
                values: vec![value],
            }),
        }
    }
    facets
}

/// `first` (20 when not given, at most [`MAX_PAGE_SIZE`]) and `after` (an offset cursor) as
/// `(offset, limit)`; lists paged by offset go 10,000 deep at most.
pub(super) fn offset_page(
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<(usize, usize)> {
    let limit = match first {
        None => 20,
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as usize,
        Some(_) => {
            return Err(ApiError::BadUserInput(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}"
            ))
            .into())
        }
    };
    let offset = match after {
        Some(cursor) => decode_cursor::<usize>(&cursor)? + 1,
        None => 0,
    };
    if offset > 10_000 {
        return Err(ApiError::BadUserInput(
            "results beyond the first 10,000 are not available; refine the search".into(),
        )
        .into());
    }
    Ok((offset, limit))
}

/// The edges of products `ids` (a page starting at `offset`) that shoppers may see: one
/// deleted or unlisted since it was indexed is skipped rather than shown stale.
pub(super) async fn listed_edges(
    ctx: &Context<'_>,
    ids: &[String],
    offset: usize,
) -> async_graphql::Result<Vec<Edge<String, Product, EmptyFields>>> {
    let products: HashMap<String, _> = ctx
        .data_unchecked::<DataLoader<ProductIdLoader>>()
        .load_many(ids.iter().cloned())
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))?;
    Ok(ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let product = products.get(id)?.clone();
            product
                .is_listed_for(false)
                .then(|| Edge::new(encode_cursor(&(offset + i)), Product::from(product)))
        })
        .collect())
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Searches active products by words in their name, brand, category and description. Typos
    /// are tolerated (one in words of 5+ letters, two in 9+) and the last word matches as a
    /// prefix. Pages with `first`/`after` (at most 100, up to 10,000 results deep).
    async fn search_products(
        &self,
        ctx: &Context<'_>,
        query: String,
        filter: Option<ProductSearchFilter>,
        #[graphql(desc = "RELEVANCE when not given")] sort: Option<ProductSearchSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ProductSearchConnection> {
        if query.chars().count() > 200 {
            return Err(
                ApiError::BadUserInput("query must be at most 200 characters".into()).into(),
            );
        }
        let (offset, limit) = offset_page(first, after)?;
        let filter = filter.unwrap_or_default();
        let category_id = match (filter.category_id, &filter.category_slug) {
            (Some(id), _) => Some(id.0),
            (None, Some(slug)) => Some(
                categories(ctx)
                    .await?
                    .values()
                    .find(|c| &c.slug == slug)
                    // No category has an empty id: an unknown slug matches nothing.
                    .map_or_else(String::new, |c| c.id.clone()),
            ),
            (None, None) => None,
        };
        let request = SearchRequest {
            query,
            category_id,
            brand_ids: filter
                .brand_ids
                .unwrap_or_default()
                .into_iter()
                .map(|id| id.0)
                .collect(),
            min_price_minor: parse_price_bound(ctx, filter.min_price.as_deref(), "minPrice")?,
            max_price_minor: parse_price_bound(ctx, filter.max_price.as_deref(), "maxPrice")?,
            option_values: filter
                .option_values
                .unwrap_or_default()
                .iter()
                .map(|o| option_facet(o.name.trim(), o.value.trim()))
                .collect(),
            attribute_values: filter
                .attribute_values
                .unwrap_or_default()
                .iter()
                .map(|a| option_facet(a.name.trim(), a.value.trim()))
                .collect(),
            sort: sort.unwrap_or_default().into(),
            offset,
            limit,
        };
        let results = service(ctx)
            .search
            .search(request)
            .await
            .map_err(ApiError::from)?;
        let has_next = (offset + results.ids.len()) < results.total as usize;
        let fields = SearchFields {
            total: results.total,
            facets: facets(ctx, &results).await?,
        };
        let mut connection = Connection::with_additional_fields(offset > 0, has_next, fields);
        connection
            .edges
            .extend(listed_edges(ctx, &results.ids, offset).await?);
        Ok(connection)
    }
}
