import { Link, useParams } from "wouter";
import { useQuery } from "urql";
import { CategoryPageDocument, type ProductSearchSort } from "../../shared/generated/graphql";
import { Field, Pager, Query } from "../../shared/ui";
import { BrandFilter, FacetFilter, facetValues, PriceFilter, useListParams } from "../filters";
import { ProductGrid } from "../ProductCard";

const PAGE_SIZE = 24;

export function CategoryPage() {
  const { slug } = useParams<{ slug: string }>();
  const { params, update, cursors, setCursors } = useListParams();
  const sort = (params.get("sort") as ProductSearchSort | null) ?? "NEWEST";
  const brandIds = params.getAll("brand");
  // The category's products come from search, which also counts brands, options and attributes.
  const [result, refetch] = useQuery({
    query: CategoryPageDocument,
    variables: {
      slug,
      first: PAGE_SIZE,
      after: cursors[cursors.length - 1],
      sort,
      filter: {
        categorySlug: slug,
        brandIds: brandIds.length ? brandIds : null,
        minPrice: params.get("min") || null,
        maxPrice: params.get("max") || null,
        optionValues: facetValues(params, "option"),
        attributeValues: facetValues(params, "attr"),
      },
    },
  });
  return (
    <Query result={result} what="the category" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) =>
        !data.category ? (
          <h1>No such category</h1>
        ) : (
          <>
            <nav aria-label="Breadcrumbs">
              <Link href="/">Home</Link>
              {data.category.path.map((step) => (
                <span key={step.id}>
                  {" / "}
                  <Link href={`/c/${step.slug}`}>{step.name}</Link>
                </span>
              ))}
            </nav>
            <h1>{data.category.name}</h1>
            <div className="layout">
              <aside aria-label="Filters">
                {data.category.children.length > 0 && (
                  <ul>
                    {data.category.children.map((child) => (
                      <li key={child.id}>
                        <Link href={`/c/${child.slug}`}>{child.name}</Link>
                      </li>
                    ))}
                  </ul>
                )}
                <Field label="Sort by">
                  <select value={sort} onChange={(e) => update((next) => next.set("sort", e.target.value))}>
                    <option value="NEWEST">Newest</option>
                    <option value="PRICE_ASC">Price: low to high</option>
                    <option value="PRICE_DESC">Price: high to low</option>
                  </select>
                </Field>
                <PriceFilter params={params} update={update} />
                <BrandFilter
                  brands={data.searchProducts.facets.brands.map(({ brand, count }) => ({ ...brand, count }))}
                  params={params}
                  update={update}
                />
                {data.searchProducts.facets.attributes.map((facet) => (
                  <FacetFilter key={facet.name} facet={facet} param="attr" params={params} update={update} />
                ))}
                {data.searchProducts.facets.options.map((facet) => (
                  <FacetFilter key={facet.name} facet={facet} param="option" params={params} update={update} />
                ))}
              </aside>
              <section aria-label="Products">
                <p className="muted">{data.searchProducts.totalCount} products</p>
                <ProductGrid products={data.searchProducts.edges.map((edge) => edge.node)} />
                <Pager
                  cursors={cursors}
                  hasNextPage={data.searchProducts.pageInfo.hasNextPage}
                  endCursor={data.searchProducts.pageInfo.endCursor}
                  onChange={setCursors}
                />
              </section>
            </div>
          </>
        )
      }
    </Query>
  );
}
