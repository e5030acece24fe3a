import { useState } from "react";
import { Link, useParams } from "wouter";
import { useQuery } from "urql";
import { ProductPageDocument } from "../../shared/generated/graphql";
import { formatDate } from "../../shared/format";
import { ErrorMessage, Field, Money, Query, UserErrors } from "../../shared/ui";
import { useAddToCart } from "../cart";
import { ProductGrid } from "../ProductCard";

export function ProductPage() {
  const { slug } = useParams<{ slug: string }>();
  const [result, refetch] = useQuery({ query: ProductPageDocument, variables: { slug } });
  return (
    <Query result={result} what="the product" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => {
        const product = data.product;
        if (!product) return <h1>No such product</h1>;
        const rating = product.rating;
        return (
          <>
            {product.category && (
              <nav aria-label="Breadcrumbs">
                <Link href="/">Home</Link>
                {product.category.path.map((step) => (
                  <span key={step.id}>
                    {" / "}
                    <Link href={`/c/${step.slug}`}>{step.name}</Link>
                  </span>
                ))}
              </nav>
            )}
            <div className="product">
              <div className="product-media">
                {product.media.map((media) => (
                  <img key={media.url} src={media.url} alt={media.alt ?? product.name} width={800} height={800} />
                ))}
              </div>
              <div>
                <h1>{product.name}</h1>
                {product.brand && <p className="muted">{product.brand.name}</p>}
                <p style={{ fontSize: "1.4rem" }}>
                  <Money value={product.price} />
                </p>
                <p className="status" data-testid="availability">
                  {!product.availability.inStock
                    ? "Sold out"
                    : product.availability.availableQuantity <= 5
                      ? `Only ${product.availability.availableQuantity} left`
                      : "In stock"}
                </p>
                {product.availability.inStock && (
                  <AddToCart productId={product.id} max={product.availability.availableQuantity} />
                )}
                <p>{product.description}</p>
                {product.attributes.length > 0 && (
                  <dl>
                    {product.attributes.map((attribute) => (
                      <div key={attribute.name} className="row">
                        <dt>{attribute.name}</dt>
                        <dd>{attribute.value}</dd>
                      </div>
                    ))}
                  </dl>
                )}
                <p className="muted">SKU {product.sku}</p>
              </div>
            </div>
            <section aria-labelledby="reviews">
              <h2 id="reviews">Reviews</h2>
              {rating.count === 0 ? (
                <p className="muted">No reviews yet.</p>
              ) : (
                <>
                  <p>
                    {rating.average} out of 5 from {rating.count} reviews
                  </p>
                  <ul className="histogram" aria-label="Ratings">
                    {[...rating.histogram].reverse().map((bucket) => (
                      <li key={bucket.stars}>
                        <span>{bucket.stars} stars</span>
                        <span className="bar" aria-hidden="true">
                          <span style={{ width: `${(100 * bucket.count) / rating.count}%` }} />
                        </span>
                        <span>{bucket.count}</span>
                      </li>
                    ))}
                  </ul>
                  {product.reviews.edges.map(({ node }) => (
                    <article key={node.id} className="card">
                      <h3>
                        {"★".repeat(node.rating)}
                        {"☆".repeat(5 - node.rating)} <span className="visually-hidden">{node.rating} of 5</span>
                        {node.title}
                      </h3>
                      <p>{node.body}</p>
                      <p className="muted">
                        {node.author?.name} · {formatDate(node.createdAt)}
                        {node.verifiedBuyer && " · verified buyer"} · {node.helpfulCount} found this helpful
                      </p>
                    </article>
                  ))}
                </>
              )}
            </section>
            {product.alsoBought.length > 0 && (
              <section aria-labelledby="also-bought">
                <h2 id="also-bought">Customers also bought</h2>
                <ProductGrid products={product.alsoBought} />
              </section>
            )}
          </>
        );
      }}
    </Query>
  );
}

function AddToCart({ productId, max }: { productId: string; max: number }) {
  const [quantity, setQuantity] = useState(1);
  const [state, add] = useAddToCart();
  const [added, setAdded] = useState(false);
  const payload = state.data?.addCartLine;
  return (
    <form
      onSubmit={async (event) => {
        event.preventDefault();
        setAdded(false);
        const result = await add(productId, quantity);
        setAdded(!!result.data?.addCartLine?.cart && !result.data.addCartLine.userErrors.length);
      }}
    >
      <div className="row">
        <Field label="Quantity">
          <input
            type="number"
            min={1}
            max={Math.min(max, 99)}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))}
          />
        </Field>
        <button type="submit" disabled={state.fetching}>
          {state.fetching ? "Adding…" : "Add to cart"}
        </button>
      </div>
      {state.error && <ErrorMessage error={state.error} />}
      <UserErrors errors={payload?.userErrors} />
      {added && (
        <p role="status">
          Added to your cart. <Link href="/cart">View cart ({payload?.cart?.itemCount})</Link>
        </p>
      )}
    </form>
  );
}
