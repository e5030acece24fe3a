import { useState, type FormEvent } from "react";
import { Link, useLocation, useParams } from "wouter";
import { useMutation, useQuery } from "urql";
import {
  AdjustStockDocument,
  AdminProductDocument,
  AdminProductsDocument,
  ArchiveProductDocument,
  CreateProductDocument,
  HomeDocument,
  UpdateProductDocument,
  type AdjustmentKind,
  type ProductStatus,
} from "../../shared/generated/graphql";
import { formatDate, humanize, variantTitle } from "../../shared/format";
import { useIdempotencyKey } from "../../shared/idempotency";
import { ErrorMessage, Field, Money, Pager, Query, UserErrors } from "../../shared/ui";
import { CategoryAttributes, ProductAttributes } from "./Attributes";
import { Media } from "./Media";
import { Options, Variants } from "./Variants";

export function ProductsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [status, setStatus] = useState<ProductStatus>("ACTIVE");
  const [result, refetch] = useQuery({
    query: AdminProductsDocument,
    variables: { first: 25, after: cursors[cursors.length - 1], filter: { status } },
  });
  return (
    <>
      <h1>Products</h1>
      <NewProduct />
      <Field label="Status">
        <select
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as ProductStatus);
            setCursors([null]);
          }}
        >
          <option value="ACTIVE">Active</option>
          <option value="DRAFT">Draft</option>
          <option value="ARCHIVED">Archived</option>
        </select>
      </Field>
      <Query result={result} what="products" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            <p className="muted">{data.products.totalCount} products</p>
            <table>
              <thead>
                <tr>
                  <th scope="col">SKU</th>
                  <th scope="col">Name</th>
                  <th scope="col">Price</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {data.products.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>{node.sku}</td>
                    <td>
                      <Link href={`/products/${node.id}`}>{node.name}</Link>
                    </td>
                    <td>
                      <Money value={node.price} />
                    </td>
                    <td>{formatDate(node.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              cursors={cursors}
              hasNextPage={data.products.pageInfo.hasNextPage}
              endCursor={data.products.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
    </>
  );
}

function NewProduct() {
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  // The storefront's category list serves the form's category picker.
  const [categories] = useQuery({ query: HomeDocument, variables: { collections: 0, perCollection: 0 }, pause: !open });
  const [created, create] = useMutation(CreateProductDocument);
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New product
      </button>
    );
  }
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await create({
      input: {
        sku: String(form.get("sku")),
        name: String(form.get("name")),
        description: String(form.get("description")),
        categoryId: String(form.get("categoryId")),
        price: { amount: String(form.get("price")), currencyCode: "USD" },
        status: form.get("status") as ProductStatus,
      },
    });
    const product = answer.data?.createProduct.product;
    if (product) navigate(`/products/${product.id}`);
  };
  return (
    <form onSubmit={onSubmit} className="card">
      <h2>New product</h2>
      <Field label="SKU">
        <input name="sku" required />
      </Field>
      <Field label="Name">
        <input name="name" required />
      </Field>
      <Field label="Description">
        <textarea name="description" rows={3} />
      </Field>
      <Field label="Category">
        <select name="categoryId" required>
          {categories.data?.categories.flatMap((category) => [
            <option key={category.id} value={category.id}>
              {category.name}
            </option>,
            ...category.children.map((child) => (
              <option key={child.id} value={child.id}>
                {category.name} / {child.name}
              </option>
            )),
          ])}
        </select>
      </Field>
      <Field label="Price (USD)">
        <input name="price" inputMode="decimal" required pattern="[0-9]+(\.[0-9]{1,2})?" />
      </Field>
      <Field label="Status">
        <select name="status" defaultValue="ACTIVE">
          <option value="ACTIVE">Active</option>
          <option value="DRAFT">Draft</option>
        </select>
      </Field>
      {created.error && <ErrorMessage error={created.error} />}
      <UserErrors errors={created.data?.createProduct.userErrors} />
      <button type="submit" disabled={created.fetching}>
        Create product
      </button>
    </form>
  );
}

export function ProductPage() {
  const { id } = useParams<{ id: string }>();
  const [result, refetch] = useQuery({ query: AdminProductDocument, variables: { id } });
  const [updated, update] = useMutation(UpdateProductDocument);
  const [archived, archive] = useMutation(ArchiveProductDocument);
  return (
    <Query result={result} what="the product" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => {
        const product = data.product;
        if (!product) return <h1>No such product</h1>;
        return (
          <>
            <h1>{product.name}</h1>
            <p>
              {product.sku} · {humanize(product.status)} · {product.category?.name}
            </p>
            <form
              className="card"
              onSubmit={(event) => {
                event.preventDefault();
                const form = new FormData(event.currentTarget);
                update({
                  input: {
                    id: product.id,
                    name: String(form.get("name")),
                    description: String(form.get("description")),
                    price: { amount: String(form.get("price")), currencyCode: product.price.currencyCode },
                    // Blank goes back to the name and description.
                    metaTitle: String(form.get("metaTitle") ?? ""),
                    metaDescription: String(form.get("metaDescription") ?? ""),
                  },
                });
              }}
            >
              <h2>Details</h2>
              <Field label="Name">
                <input name="name" required defaultValue={product.name} />
              </Field>
              <Field label="Description">
                <textarea name="description" rows={3} defaultValue={product.description} />
              </Field>
              <Field label={`Price (${product.price.currencyCode})`}>
                <input name="price" required inputMode="decimal" defaultValue={product.price.amount} />
              </Field>
              <Field label="Search engine title" hint={`Blank: ${product.name}`}>
                <input name="metaTitle" maxLength={200} defaultValue={product.metaTitle ?? ""} />
              </Field>
              <Field label="Search engine description" hint="Blank: the start of the description">
                <textarea name="metaDescription" rows={2} maxLength={500} defaultValue={product.metaDescription ?? ""} />
              </Field>
              {updated.error && <ErrorMessage error={updated.error} />}
              <UserErrors errors={updated.data?.updateProduct.userErrors} />
              {updated.data?.updateProduct.product && <p role="status">Saved.</p>}
              <div className="row">
                <button type="submit" disabled={updated.fetching}>
                  Save
                </button>
                {product.status !== "ARCHIVED" && (
                  <button
                    type="button"
                    className="secondary"
                    disabled={archived.fetching}
                    onClick={() => confirm(`Archive ${product.name}?`) && archive({ id: product.id })}
                  >
                    Archive
                  </button>
                )}
              </div>
              {archived.error && <ErrorMessage error={archived.error} />}
              <UserErrors errors={archived.data?.archiveProduct.userErrors} />
            </form>
            <h2>Stock</h2>
            <p data-testid="available">
              {product.availability.availableQuantity} available {product.availability.inStock ? "" : "(sold out)"}
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Warehouse</th>
                  <th scope="col">On hand</th>
                  <th scope="col">Reserved</th>
                  <th scope="col">Available</th>
                </tr>
              </thead>
              <tbody>
                {product.availability.warehouses.map((stock) => (
                  <tr key={stock.warehouseId}>
                    <td>{data.warehouses.find((w) => w.id === stock.warehouseId)?.name ?? stock.warehouseId}</td>
                    <td>{stock.onHand}</td>
                    <td>{stock.reserved}</td>
                    <td>{stock.available}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <AdjustStock
              productId={product.id}
              variants={product.variants.filter((v) => v.status !== "ARCHIVED")}
              warehouses={data.warehouses.filter((w) => w.active)}
            />
            <Options product={product} />
            <Variants product={product} />
            <Media product={product} />
            <ProductAttributes product={product} />
            {product.category && <CategoryAttributes category={product.category} />}
          </>
        );
      }}
    </Query>
  );
}

function AdjustStock({
  productId,
  variants,
  warehouses,
}: {
  productId: string;
  variants: { id: string; sku: string; optionValues: { value: string }[] }[];
  warehouses: { id: string; name: string }[];
}) {
  const [adjusted, adjust] = useMutation(AdjustStockDocument);
  // One key per adjustment the admin means to make: a retry after a network failure reuses it.
  const { key, answered } = useIdempotencyKey(`stock.${productId}`);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await adjust({
      input: {
        variantId: String(form.get("variantId")),
        warehouseId: String(form.get("warehouseId")),
        kind: form.get("kind") as AdjustmentKind,
        quantity: Number(form.get("quantity")),
        reason: String(form.get("reason")),
        idempotencyKey: key,
      },
    });
    if (answer.data) answered();
  };
  return (
    <form onSubmit={onSubmit} className="card">
      <h3>Adjust stock</h3>
      <div className="row">
        <Field label="Variant">
          <select name="variantId">
            {variants.map((v) => (
              <option key={v.id} value={v.id}>
                {variantTitle(v.optionValues) || "Default"} ({v.sku})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Warehouse">
          <select name="warehouseId">
            {warehouses.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Kind">
          <select name="kind">
            <option value="RESTOCK">Restock</option>
            <option value="CORRECTION">Correction</option>
            <option value="DAMAGE">Damage</option>
          </select>
        </Field>
        <Field label="Quantity">
          <input name="quantity" type="number" required />
        </Field>
        <Field label="Reason">
          <input name="reason" required />
        </Field>
      </div>
      {adjusted.error && <ErrorMessage error={adjusted.error} />}
      <UserErrors errors={adjusted.data?.adjustStock.userErrors} />
      {adjusted.data?.adjustStock.adjustment && (
        <p role="status">Now {adjusted.data.adjustStock.adjustment.onHandAfter} on hand.</p>
      )}
      <button type="submit" disabled={adjusted.fetching}>
        Adjust stock
      </button>
    </form>
  );
}
