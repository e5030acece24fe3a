// Collections in the dashboard: the list in the home page's order with how many products each
// holds, a form for a new one (hand-picked by SKU, or a rule: a category and a price range),
// and deleting one. The shop answers each mistake (an unknown SKU, a taken slug) with a
// userError shown here.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  AdminCollectionsDocument,
  CreateCollectionDocument,
  DeleteCollectionDocument,
  type CollectionSort,
} from "../../shared/generated/graphql";
import { humanize } from "../../shared/format";
import { ErrorMessage, Field, Query, UserErrors } from "../../shared/ui";

export function CollectionsPage() {
  const [result, refetch] = useQuery({ query: AdminCollectionsDocument });
  const [created, create] = useMutation(CreateCollectionDocument);
  const [deleted, remove] = useMutation(DeleteCollectionDocument);
  const [handPicked, setHandPicked] = useState(true);
  const [formKey, setFormKey] = useState(0);
  const reload = () => refetch({ requestPolicy: "network-only" });

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const money = (amount: string) => (amount ? { amount, currencyCode: "USD" as const } : null);
    const answer = await create({
      input: {
        title: text("title"),
        description: text("description"),
        published: form.get("published") === "on",
        sort: text("sort") as CollectionSort,
        ...(handPicked
          ? {
              productSkus: text("skus")
                .split(",")
                .map((sku) => sku.trim())
                .filter((sku) => sku.length > 0),
            }
          : {
              filter: {
                categoryId: text("category") || null,
                minPrice: money(text("min")),
                maxPrice: money(text("max")),
              },
            }),
      },
    });
    if (answer.data?.createCollection.collection) {
      setFormKey((k) => k + 1);
      reload();
    }
  };

  return (
    <>
      <h1>Collections</h1>
      <Query result={result} what="the collections" retry={reload}>
        {(data) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Sort</th>
                  <th scope="col">Products</th>
                  <th scope="col">Shown</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.collections.map((collection) => (
                  <tr key={collection.id}>
                    <td>
                      <a href={`/collections/${collection.slug}`}>{collection.title}</a>
                    </td>
                    <td>{collection.handPicked ? "Hand-picked" : "Rule"}</td>
                    <td>{humanize(collection.sort)}</td>
                    <td data-testid={`count-${collection.slug}`}>{collection.products.totalCount}</td>
                    <td>{collection.published ? "Published" : "Draft"}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        disabled={deleted.fetching}
                        onClick={() =>
                          confirm(`Delete ${collection.title}?`) &&
                          remove({ input: { id: collection.id } }).then(reload)
                        }
                      >
                        Delete {collection.title}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {deleted.error && <ErrorMessage error={deleted.error} />}
            <UserErrors errors={deleted.data?.deleteCollection.userErrors} />
            <form className="card" onSubmit={onSubmit} key={formKey}>
              <h2>New collection</h2>
              <Field label="Title">
                <input name="title" required maxLength={100} />
              </Field>
              <Field label="Description (optional)">
                <input name="description" maxLength={2000} />
              </Field>
              <fieldset>
                <legend>Products</legend>
                <label>
                  <input type="radio" checked={handPicked} onChange={() => setHandPicked(true)} /> Hand-picked
                </label>{" "}
                <label>
                  <input type="radio" checked={!handPicked} onChange={() => setHandPicked(false)} /> By a rule
                </label>
              </fieldset>
              {handPicked ? (
                <Field label="Product SKUs" hint="Comma-separated, in the order shown">
                  <input name="skus" required />
                </Field>
              ) : (
                <div className="row">
                  <Field label="In category">
                    <select name="category" defaultValue="">
                      <option value="">Any</option>
                      {data.categories.flatMap((root) => [
                        <option key={root.id} value={root.id}>
                          {root.name}
                        </option>,
                        ...root.children.map((child) => (
                          <option key={child.id} value={child.id}>
                            {root.name} / {child.name}
                          </option>
                        )),
                      ])}
                    </select>
                  </Field>
                  <Field label="From price (USD)">
                    <input name="min" inputMode="decimal" size={6} />
                  </Field>
                  <Field label="Up to price (USD)">
                    <input name="max" inputMode="decimal" size={6} />
                  </Field>
                </div>
              )}
              <Field label="Sort by">
                <select name="sort" defaultValue={handPicked ? "MANUAL" : "NEWEST"} key={String(handPicked)}>
                  {handPicked && <option value="MANUAL">As listed</option>}
                  <option value="NEWEST">Newest</option>
                  <option value="PRICE_ASC">Price: low to high</option>
                  <option value="PRICE_DESC">Price: high to low</option>
                </select>
              </Field>
              <label>
                <input type="checkbox" name="published" defaultChecked /> Show on the storefront
              </label>
              {created.error && <ErrorMessage error={created.error} />}
              <UserErrors errors={created.data?.createCollection.userErrors} />
              {created.data?.createCollection.collection && <p role="status">Collection created.</p>}
              <div>
                <button type="submit" disabled={created.fetching}>
                  Create collection
                </button>
              </div>
            </form>
          </>
        )}
      </Query>
    </>
  );
}
