import { Link } from "wouter";
import { useQuery } from "urql";
import { HomeDocument } from "../../shared/generated/graphql";
import { Query } from "../../shared/ui";
import { ProductGrid } from "../ProductCard";

export function HomePage() {
  const [result, refetch] = useQuery({ query: HomeDocument, variables: { first: 8 } });
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
          <h2>New arrivals</h2>
          <ProductGrid products={data.products.edges.map((edge) => edge.node)} />
        </>
      )}
    </Query>
  );
}
