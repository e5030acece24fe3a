import { useQuery } from "urql";
import { SearchProductsDocument, type ProductSearchSort } from "../../shared/generated/graphql";
import { formatMoney } from "../../shared/format";
import { Field, Pager, Query } from "../../shared/ui";
import { BrandFilter, FacetFilter, facetValues, PriceFilter, useListParams } from "../filters";
import { ProductGrid } from "../ProductCard";

const PAGE_SIZE = 24;

export function SearchPage() {
  const { params, update, cursors, setCursors } = useListParams();
  const query = params.get("q") ?? "";
  const brandIds = params.getAll("brand");
  const categoryId = params.get("category");
  const sort = (params.get("sort") as ProductSearchSort | null) ?? "RELEVANCE";
  const [result, refetch] = useQuery({
    query: SearchProductsDocument,
    variables: {
      query,
      first: PAGE_SIZE,
      after: cursors[cursors.length - 1],
      sort,
      filter: {
        brandIds: brandIds.length ? brandIds : null,
        categoryId,
        minPrice: params.get("min") || null,
        maxPrice: params.get("max") || null,
        optionValues: facetValues(params, "option"),
        attributeValues: facetValues(params, "attr"),
      },
    },
    pause: !query,
  });
  if (!query) return <h1>Search the shop</h1>;
  return (
    <Query result={result} what="results" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => {
        const search = data.searchProducts;
        return (
          <>
            <h1>
              {search.totalCount} results for “{query}”
            </h1>
            <div className="layout">
              <aside aria-label="Filters">
                <Field label="Sort by">
                  <select value={sort} onChange={(e) => update((next) => next.set("sort", e.target.value))}>
                    <option value="RELEVANCE">Relevance</option>
                    <option value="NEWEST">Newest</option>
                    <option value="PRICE_ASC">Price: low to high</option>
                    <option value="PRICE_DESC">Price: high to low</option>
                  </select>
                </Field>
                <BrandFilter
                  brands={search.facets.brands.map(({ brand, count }) => ({ ...brand, count }))}
                  params={params}
                  update={update}
                />
                <fieldset>
                  <legend>Category</legend>
                  {search.facets.categories.map(({ category, count }) => (
                    <label key={category.id} style={{ display: "block" }}>
                      <input
                        type="radio"
                        name="category"
                        checked={categoryId === category.id}
                        onChange={() => update((next) => next.set("category", category.id))}
                      />{" "}
                      {category.name} ({count})
                    </label>
                  ))}
                  {categoryId && (
                    <button type="button" className="secondary" onClick={() => update((next) => next.delete("category"))}>
                      Any category
                    </button>
                  )}
                </fieldset>
                {search.facets.options.map((facet) => (
                  <FacetFilter key={facet.name} facet={facet} param="option" params={params} update={update} />
                ))}
                {search.facets.attributes.map((facet) => (
                  <FacetFilter key={facet.name} facet={facet} param="attr" params={params} update={update} />
                ))}
                <p className="muted">
                  Prices:{" "}
                  {search.facets.prices
                    .filter((bucket) => bucket.count > 0)
                    .map((bucket) => `${formatMoney(bucket.min)}–${formatMoney(bucket.max)} (${bucket.count})`)
                    .join(", ")}
                </p>
                <PriceFilter params={params} update={update} />
              </aside>
              <section aria-label="Results">
                <ProductGrid products={search.edges.map((edge) => edge.node)} />
                <Pager
                  cursors={cursors}
                  hasNextPage={search.pageInfo.hasNextPage}
                  endCursor={search.pageInfo.endCursor}
                  onChange={setCursors}
                />
              </section>
            </div>
          </>
        );
      }}
    </Query>
  );
}
