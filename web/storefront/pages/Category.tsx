import { useState } from "react";
import { Link, useParams, useSearchParams } from "wouter";
import { useQuery } from "urql";
import { CategoryPageDocument, type ProductSort } from "../../shared/generated/graphql";
import { Field, Pager, Query } from "../../shared/ui";
import { ProductGrid } from "../ProductCard";

const PAGE_SIZE = 24;

export function CategoryPage() {
  const { slug } = useParams<{ slug: string }>();
  const [params, setParams] = useSearchParams();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const sort = (params.get("sort") as ProductSort | null) ?? "NEWEST";
  const brandIds = params.getAll("brand");
  const [result, refetch] = useQuery({
    query: CategoryPageDocument,
    variables: {
      slug,
      first: PAGE_SIZE,
      after: cursors[cursors.length - 1],
      sort,
      brandIds: brandIds.length ? brandIds : null,
      minPrice: params.get("min") || null,
      maxPrice: params.get("max") || null,
    },
  });
  const update = (change: (next: URLSearchParams) => void) => {
    const next = new URLSearchParams(params);
    change(next);
    setCursors([null]);
    setParams(next);
  };
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
                <fieldset>
                  <legend>Brand</legend>
                  {data.brands.map((brand) => (
                    <label key={brand.id} style={{ display: "block" }}>
                      <input
                        type="checkbox"
                        checked={brandIds.includes(brand.id)}
                        onChange={(e) =>
                          update((next) => {
                            const chosen = new Set(brandIds);
                            if (e.target.checked) chosen.add(brand.id);
                            else chosen.delete(brand.id);
                            next.delete("brand");
                            chosen.forEach((id) => next.append("brand", id));
                          })
                        }
                      />{" "}
                      {brand.name}
                    </label>
                  ))}
                </fieldset>
              </aside>
              <section aria-label="Products">
                <p className="muted">{data.category.products.totalCount} products</p>
                <ProductGrid products={data.category.products.edges.map((edge) => edge.node)} />
                <Pager
                  cursors={cursors}
                  hasNextPage={data.category.products.pageInfo.hasNextPage}
                  endCursor={data.category.products.pageInfo.endCursor}
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

export function PriceFilter({
  params,
  update,
}: {
  params: URLSearchParams;
  update: (change: (next: URLSearchParams) => void) => void;
}) {
  const [min, setMin] = useState(params.get("min") ?? "");
  const [max, setMax] = useState(params.get("max") ?? "");
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        update((next) => {
          for (const [key, value] of [["min", min], ["max", max]] as const) {
            if (value) next.set(key, value);
            else next.delete(key);
          }
        });
      }}
    >
      <div className="row">
        <Field label="Min price">
          <input inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,2})?" size={6} value={min} onChange={(e) => setMin(e.target.value)} />
        </Field>
        <Field label="Max price">
          <input inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,2})?" size={6} value={max} onChange={(e) => setMax(e.target.value)} />
        </Field>
      </div>
      <button type="submit" className="secondary">
        Apply prices
      </button>
    </form>
  );
}
