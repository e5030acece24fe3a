// A collection's page: its title, description and products, page by page.
import { useState } from "react";
import { useParams } from "wouter";
import { useQuery } from "urql";
import { CollectionPageDocument } from "../../shared/generated/graphql";
import { Pager, Query } from "../../shared/ui";
import { ProductGrid } from "../ProductCard";

const PAGE_SIZE = 24;

export function CollectionPage() {
  const { slug } = useParams<{ slug: string }>();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [result, refetch] = useQuery({
    query: CollectionPageDocument,
    variables: { slug, first: PAGE_SIZE, after: cursors[cursors.length - 1] },
  });
  return (
    <Query result={result} what="the collection" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) =>
        !data.collection ? (
          <h1>No such collection</h1>
        ) : (
          <>
            <h1>{data.collection.title}</h1>
            {data.collection.description && <p>{data.collection.description}</p>}
            <p className="muted">{data.collection.products.totalCount} products</p>
            <ProductGrid products={data.collection.products.edges.map((edge) => edge.node)} />
            <Pager
              cursors={cursors}
              hasNextPage={data.collection.products.pageInfo.hasNextPage}
              endCursor={data.collection.products.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )
      }
    </Query>
  );
}
