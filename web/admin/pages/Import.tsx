// Bulk import: an admin picks a CSV file (Shopify's product CSV columns, one row per variant)
// or a JSON lines file (`.jsonl`, one product per line);
// the shop checks all of it first, so a file with errors changes nothing and every row and
// column at fault is listed here to fix; a good file creates or updates products and variants,
// and the same file again changes nothing.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { ImportProductsDocument } from "../../shared/generated/graphql";
import { ErrorMessage, Field, UserErrors } from "../../shared/ui";

/** The largest file sent from here; bigger ones go through `shop import FILE`. */
const MAX_BYTES = 1_500_000;

export function ImportPage() {
  const [imported, importProducts] = useMutation(ImportProductsDocument);
  const [tooBig, setTooBig] = useState<string | null>(null);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get("file");
    if (!(file instanceof File) || file.size === 0) return;
    if (file.size > MAX_BYTES) {
      setTooBig(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; import files over 1.5 MB with \`shop import FILE\`.`);
      return;
    }
    setTooBig(null);
    const format = /\.(jsonl|ndjson)$/i.test(file.name) ? "JSON_LINES" : "CSV";
    importProducts({ file: await file.text(), format });
  };
  const report = imported.data?.importProducts;
  return (
    <>
      <h1>Import products</h1>
      <form className="card" onSubmit={onSubmit}>
        <p className="muted">
          A CSV file with a header row in Shopify&apos;s product CSV columns (Handle, Title, Body (HTML), Category,
          Status, Option1 Name, Option1 Value, …, Variant SKU, Variant Price, Variant Compare At Price, Variant Grams,
          Variant Barcode), one row per variant, or a JSON lines file (.jsonl), one product per line. Products are
          found by handle and variants by SKU.
        </p>
        <Field label="CSV or JSON lines file">
          <input name="file" type="file" accept=".csv,.jsonl,.ndjson,text/csv" required />
        </Field>
        <button type="submit" disabled={imported.fetching}>
          {imported.fetching ? "Importing…" : "Import"}
        </button>
      </form>
      {tooBig && <p role="alert">{tooBig}</p>}
      {imported.error && <ErrorMessage error={imported.error} />}
      <UserErrors errors={report?.userErrors} />
      {report && report.errors.length === 0 && report.userErrors.length === 0 && (
        <p role="status">
          Products created: {report.productsCreated}, updated: {report.productsUpdated}. Variants created:{" "}
          {report.variantsCreated}, updated: {report.variantsUpdated}, unchanged: {report.variantsUnchanged}.
        </p>
      )}
      {report && report.errors.length > 0 && (
        <section aria-labelledby="import-errors">
          <h2 id="import-errors">
            Nothing was imported: {report.errors.length} {report.errors.length === 1 ? "error" : "errors"} to fix
          </h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Column</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {report.errors.map((error, i) => (
                <tr key={i}>
                  <td>{error.row}</td>
                  <td>{error.column ?? "—"}</td>
                  <td>{error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
