// Typed attributes in the dashboard: a product's values, one field per attribute its category
// defines (text, a number in its unit, yes/no, one of a list), and the category's own
// definitions (its product type), which its subcategories inherit. The shop checks both and
// answers a mistake with a userError shown here.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  SetCategoryAttributesDocument,
  UpdateProductDocument,
  type AdminProductQuery,
  type AttributeKind,
} from "../../shared/generated/graphql";
import { humanize } from "../../shared/format";
import { ErrorMessage, Field, UserErrors } from "../../shared/ui";

type AdminProduct = NonNullable<AdminProductQuery["product"]>;
type Definition = NonNullable<AdminProduct["category"]>["attributeDefinitions"][number];

const KINDS: AttributeKind[] = ["TEXT", "NUMBER", "BOOLEAN", "CHOICE"];

function label(definition: Definition): string {
  return definition.unit ? `${definition.name} (${definition.unit})` : definition.name;
}

function ValueInput({ definition, value }: { definition: Definition; value: string }) {
  const name = `attr-${definition.name}`;
  switch (definition.kind) {
    case "BOOLEAN":
      return (
        <select name={name} defaultValue={value}>
          <option value="">Not set</option>
          <option value="true">Yes</option>
          <option value="false">No</option>
        </select>
      );
    case "CHOICE":
      return (
        <select name={name} defaultValue={value}>
          <option value="">Not set</option>
          {definition.choices.map((choice) => (
            <option key={choice}>{choice}</option>
          ))}
        </select>
      );
    case "NUMBER":
      return <input name={name} inputMode="decimal" defaultValue={value} />;
    default:
      return <input name={name} maxLength={200} defaultValue={value} />;
  }
}

export function ProductAttributes({ product }: { product: AdminProduct }) {
  const [saved, save] = useMutation(UpdateProductDocument);
  const definitions = product.category?.attributeDefinitions ?? [];
  if (definitions.length === 0) return null;
  const valueOf = (name: string) => product.attributes.find((a) => a.name === name)?.value ?? "";
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const attributes = definitions
      .map((d) => ({ name: d.name, value: String(form.get(`attr-${d.name}`) ?? "").trim() }))
      .filter((a) => a.value.length > 0);
    save({ input: { id: product.id, attributes } });
  };
  return (
    <form className="card" onSubmit={onSubmit} key={product.attributes.map((a) => `${a.name}=${a.value}`).join("&")}>
      <h2>Attributes</h2>
      <div className="row">
        {definitions.map((definition) => (
          <Field key={definition.name} label={label(definition)}>
            <ValueInput definition={definition} value={valueOf(definition.name)} />
          </Field>
        ))}
      </div>
      {saved.error && <ErrorMessage error={saved.error} />}
      <UserErrors errors={saved.data?.updateProduct.userErrors} />
      {saved.data?.updateProduct.product && <p role="status">Attributes saved.</p>}
      <button type="submit" disabled={saved.fetching}>
        Save attributes
      </button>
    </form>
  );
}

/** The attributes `category` defines for its products, with one empty row to add another. */
export function CategoryAttributes({ category }: { category: NonNullable<AdminProduct["category"]> }) {
  const [saved, save] = useMutation(SetCategoryAttributesDocument);
  const [extra, setExtra] = useState(1);
  const own = category.ownAttributeDefinitions;
  const inherited = category.attributeDefinitions.filter((d) => !own.some((o) => o.name === d.name));
  const rows = [...own, ...Array.from({ length: extra }, () => undefined)];
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const attributes = rows
      .map((_, i) => ({
        name: String(form.get(`name-${i}`) ?? "").trim(),
        kind: String(form.get(`kind-${i}`)) as AttributeKind,
        unit: String(form.get(`unit-${i}`) ?? "").trim() || null,
        choices: String(form.get(`choices-${i}`) ?? "")
          .split(",")
          .map((c) => c.trim())
          .filter((c) => c.length > 0),
      }))
      .filter((a) => a.name.length > 0);
    save({ input: { categoryId: category.id, attributes } }).then((result) => {
      if (result.data?.setCategoryAttributes.category) setExtra(1);
    });
  };
  return (
    <form className="card" onSubmit={onSubmit} key={own.map((d) => d.name).join("|")}>
      <h2>Attributes of {category.name}</h2>
      <p className="muted">
        Every product in {category.name} and its subcategories may have these. Choices and yes/no attributes are search
        filters.
        {inherited.length > 0 && ` Inherited: ${inherited.map((d) => d.name).join(", ")}.`}
      </p>
      {rows.map((definition, i) => (
        <div className="row" key={definition?.name ?? `new-${i}`}>
          <Field label={`Attribute ${i + 1}`}>
            <input name={`name-${i}`} defaultValue={definition?.name ?? ""} maxLength={50} />
          </Field>
          <Field label={`Type of attribute ${i + 1}`}>
            <select name={`kind-${i}`} defaultValue={definition?.kind ?? "TEXT"}>
              {KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {humanize(kind)}
                </option>
              ))}
            </select>
          </Field>
          <Field label={`Unit of attribute ${i + 1}`} hint="Numbers only">
            <input name={`unit-${i}`} defaultValue={definition?.unit ?? ""} size={6} maxLength={20} />
          </Field>
          <Field label={`Choices of attribute ${i + 1}`} hint="Comma-separated, choices only">
            <input name={`choices-${i}`} defaultValue={definition?.choices.join(", ") ?? ""} />
          </Field>
        </div>
      ))}
      <button type="button" className="secondary" onClick={() => setExtra((n) => n + 1)}>
        Another attribute
      </button>{" "}
      {saved.error && <ErrorMessage error={saved.error} />}
      <UserErrors errors={saved.data?.setCategoryAttributes.userErrors} />
      {saved.data?.setCategoryAttributes.category && <p role="status">Category attributes saved.</p>}
      <button type="submit" disabled={saved.fetching}>
        Save category attributes
      </button>
    </form>
  );
}
