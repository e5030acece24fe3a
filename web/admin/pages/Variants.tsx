// A product's options and variants in the dashboard: define the options (Size: S, M, L), make
// the variants they allow (one, or every missing combination at once), change a variant's price
// and "was" price, archive one. The shop answers each mistake (a repeated SKU or combination, a
// value in use) with a userError shown here.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  ArchiveProductVariantDocument,
  CreateProductVariantsDocument,
  SetProductOptionsDocument,
  UpdateProductVariantDocument,
  type AdminProductQuery,
  type ProductOptionInput,
  type ProductVariantInput,
} from "../../shared/generated/graphql";
import { humanize, variantTitle } from "../../shared/format";
import { ErrorMessage, Field, Money, UserErrors } from "../../shared/ui";

type AdminProduct = NonNullable<AdminProductQuery["product"]>;
type AdminVariant = AdminProduct["variants"][number];

const MAX_OPTIONS = 3;

/** "S, M, L" as the list of values it names. */
function values(text: string): string[] {
  return text
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** Every combination of the options' values, in option order. */
function combinations(options: AdminProduct["options"]): { name: string; value: string }[][] {
  return options.reduce<{ name: string; value: string }[][]>(
    (made, option) => made.flatMap((prefix) => option.values.map((value) => [...prefix, { name: option.name, value }])),
    [[]],
  );
}

function sameValues(a: { name: string; value: string }[], b: { name: string; value: string }[]): boolean {
  return a.length === b.length && a.every((v, i) => v.name === b[i].name && v.value === b[i].value);
}

export function Options({ product }: { product: AdminProduct }) {
  const [saved, save] = useMutation(SetProductOptionsDocument);
  const rows = Array.from({ length: MAX_OPTIONS }, (_, i) => product.options[i]);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const options: ProductOptionInput[] = rows
      .map((_, i) => ({ name: String(form.get(`option-${i}`)).trim(), values: values(String(form.get(`values-${i}`))) }))
      .filter((o) => o.name.length > 0);
    save({ input: { productId: product.id, options } });
  };
  return (
    <form className="card" onSubmit={onSubmit}>
      <h2>Options</h2>
      <p className="muted">Each option with its values in order, separated by commas (Size: S, M, L).</p>
      {rows.map((option, i) => (
        <div className="row" key={i}>
          <Field label={`Option ${i + 1}`}>
            <input name={`option-${i}`} defaultValue={option?.name ?? ""} />
          </Field>
          <Field label={`Values of option ${i + 1}`}>
            <input name={`values-${i}`} defaultValue={option?.values.join(", ") ?? ""} />
          </Field>
        </div>
      ))}
      {saved.error && <ErrorMessage error={saved.error} />}
      <UserErrors errors={saved.data?.setProductOptions.userErrors} />
      {saved.data?.setProductOptions.product && <p role="status">Options saved.</p>}
      <button type="submit" disabled={saved.fetching}>
        Save options
      </button>
    </form>
  );
}

export function Variants({ product }: { product: AdminProduct }) {
  const [created, create] = useMutation(CreateProductVariantsDocument);
  const live = product.variants.filter((v) => v.status !== "ARCHIVED");
  const missing =
    product.options.length === 0
      ? []
      : combinations(product.options).filter(
          (combination) => !live.some((v) => sameValues(v.optionValues, combination)),
        );
  const addMissing = () => {
    const variants: ProductVariantInput[] = missing.map((optionValues) => ({
      sku: [product.sku, ...optionValues.map((o) => o.value)].join("-").replace(/[^A-Za-z0-9-]/g, ""),
      optionValues,
      price: { amount: product.price.amount, currencyCode: product.price.currencyCode },
    }));
    create({ input: { productId: product.id, variants } });
  };
  return (
    <section className="card" aria-labelledby="variants">
      <h2 id="variants">Variants</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">SKU</th>
            <th scope="col">Status</th>
            <th scope="col">Available</th>
            <th scope="col">Price</th>
            <th scope="col">
              <span className="visually-hidden">Archive</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {product.variants.map((variant) => (
            <VariantRow key={variant.id} variant={variant} />
          ))}
        </tbody>
      </table>
      {missing.length > 0 && (
        <p>
          <button type="button" disabled={created.fetching} onClick={addMissing}>
            Add {missing.length} missing {missing.length === 1 ? "combination" : "combinations"}
          </button>
        </p>
      )}
      {created.error && <ErrorMessage error={created.error} />}
      <UserErrors errors={created.data?.createProductVariants.userErrors} />
      {product.options.length > 0 && <NewVariant product={product} />}
    </section>
  );
}

function VariantRow({ variant }: { variant: AdminVariant }) {
  const [updated, update] = useMutation(UpdateProductVariantDocument);
  const [archived, archive] = useMutation(ArchiveProductVariantDocument);
  const title = variantTitle(variant.optionValues) || "Default";
  return (
    <tr>
      <td>{title}</td>
      <td>{variant.sku}</td>
      <td>{humanize(variant.status)}</td>
      <td data-testid={`available-${variant.sku}`}>{variant.availability.availableQuantity}</td>
      <td>
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            const amount = String(form.get("price"));
            update({
              input: { id: variant.id, price: { amount, currencyCode: variant.price.currencyCode } },
            });
          }}
        >
          <label className="visually-hidden" htmlFor={`price-${variant.id}`}>
            Price of {title}
          </label>
          <input id={`price-${variant.id}`} name="price" inputMode="decimal" defaultValue={variant.price.amount} size={8} />
          <button type="submit" className="secondary" disabled={updated.fetching}>
            Save <span className="visually-hidden">price of {title}</span>
          </button>
          {variant.compareAtPrice && (
            <s className="muted" aria-label="Was">
              <Money value={variant.compareAtPrice} />
            </s>
          )}
        </form>
        {updated.error && <ErrorMessage error={updated.error} />}
        <UserErrors errors={updated.data?.updateProductVariant.userErrors} />
      </td>
      <td>
        {variant.status !== "ARCHIVED" && (
          <button
            type="button"
            className="secondary"
            disabled={archived.fetching}
            onClick={() => confirm(`Archive ${title}?`) && archive({ id: variant.id })}
          >
            Archive <span className="visually-hidden">{title}</span>
          </button>
        )}
        {archived.error && <ErrorMessage error={archived.error} />}
        <UserErrors errors={archived.data?.archiveProductVariant.userErrors} />
      </td>
    </tr>
  );
}

function NewVariant({ product }: { product: AdminProduct }) {
  const [created, create] = useMutation(CreateProductVariantsDocument);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const was = String(form.get("compareAt")).trim();
    create({
      input: {
        productId: product.id,
        variants: [
          {
            sku: String(form.get("sku")),
            optionValues: product.options.map((o) => ({ name: o.name, value: String(form.get(`value-${o.name}`)) })),
            price: { amount: String(form.get("price")), currencyCode: product.price.currencyCode },
            compareAtPrice: was ? { amount: was, currencyCode: product.price.currencyCode } : null,
          },
        ],
      },
    });
  };
  const [sku, setSku] = useState("");
  return (
    <form onSubmit={onSubmit}>
      <h3>New variant</h3>
      <div className="row">
        {product.options.map((option) => (
          <Field key={option.name} label={option.name}>
            <select name={`value-${option.name}`}>
              {option.values.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          </Field>
        ))}
        <Field label="Variant SKU">
          <input name="sku" required value={sku} onChange={(e) => setSku(e.target.value)} />
        </Field>
        <Field label={`Variant price (${product.price.currencyCode})`}>
          <input name="price" required inputMode="decimal" defaultValue={product.price.amount} />
        </Field>
        <Field label="Was price (optional)">
          <input name="compareAt" inputMode="decimal" />
        </Field>
      </div>
      {created.error && <ErrorMessage error={created.error} />}
      <UserErrors errors={created.data?.createProductVariants.userErrors} />
      {created.data?.createProductVariants.variants.length ? <p role="status">Variant added.</p> : null}
      <button type="submit" disabled={created.fetching}>
        Add variant
      </button>
    </form>
  );
}
