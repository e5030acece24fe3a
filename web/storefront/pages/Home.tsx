import { Link } from "wouter";
import { useQuery } from "urql";
import { HomeDocument } from "../../shared/generated/graphql";
import { Query } from "../../shared/ui";
import { ProductGrid } from "../ProductCard";

export function HomePage() {
  const [result, refetch] = useQuery({ query: HomeDocument, variables: { collections: 4, perCollection: 4 } });
  return (
    <Query result={result} what="the shop" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => (
        <>
          <h1>Welcome to the shop</h1>
          <nav aria-label="Categories">
            <ul className="grid">
              {data.categories.map((category) => (
                <li key={category.id} className="card">
                  <Link href={`/c/${category.slug}`}>{category.name}</Link>
                  <ul>
                    {category.children.map((child) => (
                      <li key={child.id}>
                        <Link href={`/c/${child.slug}`}>{child.name}</Link>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          </nav>
          {data.collections
            .filter((collection) => collection.products.edges.length > 0)
            .map((collection) => (
              <section key={collection.id} aria-labelledby={`collection-${collection.id}`}>
                <h2 id={`collection-${collection.id}`}>{collection.title}</h2>
                {collection.description && <p className="muted">{collection.description}</p>}
                <ProductGrid products={collection.products.edges.map((edge) => edge.node)} />
                {collection.products.totalCount > collection.products.edges.length && (
                  <p>
                    <Link href={`/collections/${collection.slug}`}>
                      All {collection.products.totalCount} in {collection.title}
                    </Link>
                  </p>
                )}
              </section>
            ))}
        </>
      )}
    </Query>
  );
}
