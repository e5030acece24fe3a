import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { ModerateReviewDocument, PendingReviewsDocument } from "../../shared/generated/graphql";
import { formatDate, humanize } from "../../shared/format";
import { ErrorMessage, Pager, Query, UserErrors } from "../../shared/ui";

export function ReviewsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [result, refetch] = useQuery({ query: PendingReviewsDocument, variables: { first: 20, after: cursors[cursors.length - 1] } });
  const [moderated, moderate] = useMutation(ModerateReviewDocument);
  return (
    <>
      <h1>Reviews waiting for a decision</h1>
      {moderated.error && <ErrorMessage error={moderated.error} />}
      <UserErrors errors={moderated.data?.moderateReview.userErrors} />
      <Query result={result} what="reviews" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            {data.pendingReviews.edges.length === 0 && <p>Nothing waits.</p>}
            {data.pendingReviews.edges.map(({ node }) => (
              <article key={node.id} className="card" aria-label={`Review ${node.title}`}>
                <h2>
                  {node.rating} of 5: {node.title}
                </h2>
                <p>{node.body}</p>
                <p className="muted">
                  {node.author?.name} ({node.author?.email}) on {node.product?.name}, {formatDate(node.createdAt)}
                  {node.holdReason && ` · held: ${humanize(node.holdReason)}`}
                </p>
                <div className="row">
                  <button type="button" onClick={() => moderate({ input: { reviewId: node.id, decision: "PUBLISH" } })}>
                    Publish
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => moderate({ input: { reviewId: node.id, decision: "REJECT" } })}
                  >
                    Reject
                  </button>
                </div>
              </article>
            ))}
            <Pager
              cursors={cursors}
              hasNextPage={data.pendingReviews.pageInfo.hasNextPage}
              endCursor={data.pendingReviews.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
    </>
  );
}
