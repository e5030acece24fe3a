import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { useQuery, type CombinedError } from "urql";
import { ProductPageDocument, type ProductPageQuery } from "../../shared/generated/graphql";
import { formatDate } from "../../shared/format";
import { ErrorMessage, Field, Money, Query, UserErrors } from "../../shared/ui";
import { useAddToCart } from "../cart";
import { ProductGrid } from "../ProductCard";

export function ProductPage() {
  const { slug } = useParams<{ slug: string }>();
  const [result, refetch] = useQuery({ query: ProductPageDocument, variables: { slug } });
  const [, navigate] = useLocation();
  const product = result.data?.product;
  useEffect(() => {
    if (!product) return;
    // A link with an old slug shows the product at its current address.
    if (product.slug !== slug) navigate(`/p/${product.slug}`, { replace: true });
  }, [product, slug, navigate]);
  usePageMeta(product?.seo);
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
            <ProductDetail product={product} />
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
                        {node.verifiedBuyer && " · verified buyer"}
                        {node.variant && node.variant.optionValues.length > 0 &&
                          ` · bought ${node.variant.optionValues.map((o) => o.value).join(" / ")}`}{" "}
                        · {node.helpfulCount} found this helpful
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

type PageProduct = NonNullable<ProductPageQuery["product"]>;

/**
 * The document's title and description while the page shows (what a browser tab, a bookmark and
 * a shared link read); the shop's own come back when it leaves.
 */
function usePageMeta(seo: { title: string; description: string } | undefined) {
  useEffect(() => {
    if (!seo) return;
    const meta = document.querySelector<HTMLMetaElement>('meta[name="description"]');
    const before = { title: document.title, description: meta?.content ?? "" };
    document.title = `${seo.title} | Shop`;
    if (meta) meta.content = seo.description;
    return () => {
      document.title = before.title;
      if (meta) meta.content = before.description;
    };
  }, [seo]);
}
type PageVariant = PageProduct["variants"][number];

/** The variant with exactly these option values, if the product sells one. */
function variantWith(variants: PageVariant[], chosen: Record<string, string>): PageVariant | undefined {
  return variants.find((v) => v.optionValues.every((o) => chosen[o.name] === o.value));
}

type Choice = Record<string, string>;

/** The images, the details and the purchase of the variant the shopper picks (first in stock). */
function ProductDetail({ product }: { product: PageProduct }) {
  const firstInStock = product.variants.find((v) => v.availability.inStock) ?? product.variants[0];
  const [chosen, setChosen] = useState<Choice>(() =>
    Object.fromEntries((firstInStock?.optionValues ?? []).map((o) => [o.name, o.value])),
  );
  const variant = useMemo(() => variantWith(product.variants, chosen), [product.variants, chosen]);
  // The picked variant's own images first, then those of the whole product.
  const images = [
    ...product.media.filter((m) => variant && m.variantIds.includes(variant.id)),
    ...product.media.filter((m) => m.variantIds.length === 0),
  ];
  return (
    <div className="product">
      <div className="product-media">
        {images.map((media) => (
          <img
            key={media.id}
            src={media.url}
            alt={media.alt ?? product.name}
            width={media.width ?? 800}
            height={media.height ?? 800}
          />
        ))}
      </div>
      <div>
        <h1>{product.name}</h1>
        {product.brand && <p className="muted">{product.brand.name}</p>}
        <Purchase product={product} chosen={chosen} setChosen={setChosen} variant={variant} />
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
      </div>
    </div>
  );
}

/**
 * Price, stock and "Add to cart" for the variant the shopper picks: one group of choices per
 * option; a value whose combination with the other choices is not sold is disabled, one that is
 * sold out says so.
 */
function Purchase({
  product,
  chosen,
  setChosen,
  variant,
}: {
  product: PageProduct;
  chosen: Choice;
  setChosen: (choice: Choice) => void;
  variant: PageVariant | undefined;
}) {
  const availability = variant?.availability;
  return (
    <>
      <p style={{ fontSize: "1.4rem" }}>
        <Money value={variant?.price ?? product.price} />
        {variant?.compareAtPrice && (
          <>
            {" "}
            <s className="muted" aria-label="Was">
              <Money value={variant.compareAtPrice} />
            </s>
          </>
        )}
      </p>
      {product.options.map((option) => (
        <fieldset key={option.name} className="options">
          <legend>{option.name}</legend>
          {option.values.map((value) => {
            const candidate = variantWith(product.variants, { ...chosen, [option.name]: value });
            const soldOut = candidate && !candidate.availability.inStock;
            const id = `option-${option.name}-${value}`;
            return (
              <span key={value} className="option">
                <input
                  type="radio"
                  id={id}
                  name={option.name}
                  value={value}
                  checked={chosen[option.name] === value}
                  disabled={!candidate}
                  onChange={() => setChosen({ ...chosen, [option.name]: value })}
                />
                <label htmlFor={id}>
                  {value}
                  {!candidate ? " (unavailable)" : soldOut ? " (sold out)" : ""}
                </label>
              </span>
            );
          })}
        </fieldset>
      ))}
      <p className="status" data-testid="availability">
        {!variant
          ? "Choose another combination"
          : !availability?.inStock
            ? "Sold out"
            : availability.availableQuantity <= 5
              ? `Only ${availability.availableQuantity} left`
              : "In stock"}
      </p>
      {variant && availability?.inStock && (
        <AddToCart key={variant.id} variantId={variant.id} max={availability.availableQuantity} />
      )}
      <p className="muted">SKU {variant?.sku ?? product.sku}</p>
    </>
  );
}

function AddToCart({ variantId, max }: { variantId: string; max: number }) {
  const [quantity, setQuantity] = useState(1);
  const [state, add] = useAddToCart();
  const [added, setAdded] = useState(false);
  // A guest's first add makes the guest cart first: its failure is shown too.
  const [failure, setFailure] = useState<CombinedError | undefined>(undefined);
  const payload = state.data?.addCartLine;
  return (
    <form
      onSubmit={async (event) => {
        event.preventDefault();
        setAdded(false);
        setFailure(undefined);
        const result = await add(variantId, quantity);
        setFailure(result.error);
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
      {failure && <ErrorMessage error={failure} />}
      <UserErrors errors={payload?.userErrors} />
      {added && (
        <p role="status">
          Added to your cart. <Link href="/cart">View cart ({payload?.cart?.itemCount})</Link>
        </p>
      )}
    </form>
  );
}
