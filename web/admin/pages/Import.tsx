// Bulk import: an admin picks a CSV file (Shopify's product CSV columns, one row per variant)
// or a JSON lines file (`.jsonl`, one product per line);
// the shop checks all of it first, so a file with errors changes nothing and every row and
// column at fault is listed here to fix; a good file creates or updates products and variants,
// and the same file again changes nothing. The import runs in the shop's background: this page
// follows it (checking, then products applied of the total) until it ends.
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  ExportProductsDocument,
  ImportProductsDocument,
  ProductImportDocument,
} from "../../shared/generated/graphql";
import { ErrorMessage, Field, UserErrors } from "../../shared/ui";

/** How often a running import is asked where it is. */
const FOLLOW_EVERY_MS = 500;

/** The largest file sent from here; bigger ones go through `shop import FILE`. */
const MAX_BYTES = 1_500_000;

export function ImportPage() {
  const [started, importProducts] = useMutation(ImportProductsDocument);
  const [tooBig, setTooBig] = useState<string | null>(null);
  const importId = started.data?.importProducts.import?.id;
  const [followed, follow] = useQuery({
    query: ProductImportDocument,
    variables: { id: importId ?? "" },
    pause: !importId,
    requestPolicy: "network-only",
  });
  // Only this import's answer (not the one before it, while the new one is asked for).
  const followedImport = followed.data?.productImport;
  const report = importId && followedImport?.id === importId ? followedImport : undefined;
  const running = started.fetching || (!!importId && (!report || report.status === "RUNNING"));
  useEffect(() => {
    if (report?.status !== "RUNNING" || followed.fetching) return;
    const timer = setTimeout(() => follow({ requestPolicy: "network-only" }), FOLLOW_EVERY_MS);
    return () => clearTimeout(timer);
  }, [report, followed.fetching, follow]);
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
        <button type="submit" disabled={running}>
          {running ? "Importing…" : "Import"}
        </button>
      </form>
      {tooBig && <p role="alert">{tooBig}</p>}
      {started.error && <ErrorMessage error={started.error} />}
      {followed.error && <ErrorMessage error={followed.error} />}
      <UserErrors errors={started.data?.importProducts.userErrors} />
      {report?.status === "RUNNING" &&
        (report.productsTotal == null ? (
          <p role="status">Checking the file…</p>
        ) : (
          <div role="status">
            <label htmlFor="import-progress">
              Applied {report.productsDone} of {report.productsTotal} products
            </label>{" "}
            <progress id="import-progress" value={report.productsDone} max={report.productsTotal} />
          </div>
        ))}
      {report?.status === "DONE" && (
        <p role="status">
          Products created: {report.productsCreated}, updated: {report.productsUpdated}. Variants created:{" "}
          {report.variantsCreated}, updated: {report.variantsUpdated}, unchanged: {report.variantsUnchanged}.
        </p>
      )}
      {report?.status === "FAILED" && (
        <p role="alert">
          The import stopped: {report.failure}. What it applied stays; import the same file again to finish it.
        </p>
      )}
      {report?.status === "REJECTED" && (
        <section aria-labelledby="import-errors">
          <h2 id="import-errors">
            Nothing was imported: {report.errorCount} {report.errorCount === 1 ? "error" : "errors"} to fix
          </h2>
          {report.errorCount > report.errors.length && (
            <p className="muted">The first {report.errors.length} are listed.</p>
          )}
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
      <ExportSection />
    </>
  );
}

/** The whole catalog as a file the import reads, behind a link that works for a day. */
function ExportSection() {
  const [exported, exportProducts] = useMutation(ExportProductsDocument);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const format = String(new FormData(event.currentTarget).get("format") ?? "CSV");
    exportProducts({ format: format === "JSON_LINES" ? "JSON_LINES" : "CSV" });
  };
  const file = exported.data?.exportProducts.export;
  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="export">
      <h2 id="export">Export products</h2>
      <p className="muted">
        Every product with its variants, in the columns the import reads: edit it and import it again.
      </p>
      <Field label="Export format">
        <select name="format" defaultValue="CSV">
          <option value="CSV">CSV</option>
          <option value="JSON_LINES">JSON lines</option>
        </select>
      </Field>
      <button type="submit" disabled={exported.fetching}>
        {exported.fetching ? "Exporting…" : "Export products"}
      </button>
      {exported.error && <ErrorMessage error={exported.error} />}
      <UserErrors errors={exported.data?.exportProducts.userErrors} />
      {file && (
        <p role="status">
          <a href={file.url} download>
            Download products.{file.format === "CSV" ? "csv" : "jsonl"}
          </a>{" "}
          ({file.variants} variants; the link works until {new Date(file.expiresAt).toLocaleString()})
        </p>
      )}
    </form>
  );
}
