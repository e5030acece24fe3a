// The audit log in the dashboard (with `staff:manage`): what staff and partners changed, newest
// first, 25 at a time, filtered by who, what and when, and downloaded as JSON lines. Nothing here
// edits a record.
import { useState, type FormEvent } from "react";
import { useClient, useQuery } from "urql";
import { AuditLogDocument, AuditLogExportDocument, type AuditFilterInput } from "../../shared/generated/graphql";
import { formatDate } from "../../shared/format";
import { ErrorMessage, Field, Pager, Query } from "../../shared/ui";

/** A `datetime-local` value as RFC 3339, or none when empty. */
function instant(value: FormDataEntryValue | null): string | null {
  const text = String(value ?? "").trim();
  return text ? new Date(text).toISOString() : null;
}

export function AuditLogPage() {
  const client = useClient();
  const [filter, setFilter] = useState<AuditFilterInput>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [result, refetch] = useQuery({
    query: AuditLogDocument,
    variables: { filter, first: 25, after: cursors[cursors.length - 1] },
    requestPolicy: "network-only",
  });
  const [exportError, setExportError] = useState<string | null>(null);
  const onFilter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim() || null;
    setFilter({
      actorId: text("actorId"),
      action: text("action"),
      entityType: text("entityType"),
      entityId: text("entityId"),
      from: instant(form.get("from")),
      until: instant(form.get("until")),
    });
    setCursors([null]);
  };
  const download = async () => {
    setExportError(null);
    const answer = await client.query(AuditLogExportDocument, { filter }, { requestPolicy: "network-only" }).toPromise();
    if (answer.error || answer.data === undefined) {
      setExportError(answer.error?.message ?? "The export failed.");
      return;
    }
    const exported = answer.data.auditLogExport;
    if (exported.truncated) {
      setExportError(`Only the newest ${exported.count} records were exported: narrow the time range for the rest.`);
    }
    const url = URL.createObjectURL(new Blob([exported.jsonLines], { type: "application/jsonl" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "audit-log.jsonl";
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <>
      <h1>Audit log</h1>
      <form onSubmit={onFilter} className="card" aria-label="Filter the audit log">
        <div className="row">
          <Field label="Actor (user id)">
            <input name="actorId" />
          </Field>
          <Field label="Action" hint="e.g. refundPayment">
            <input name="action" />
          </Field>
          <Field label="Entity type" hint="e.g. Refund, StaffRole, User">
            <input name="entityType" />
          </Field>
          <Field label="Entity id">
            <input name="entityId" />
          </Field>
          <Field label="From">
            <input name="from" type="datetime-local" />
          </Field>
          <Field label="Until">
            <input name="until" type="datetime-local" />
          </Field>
        </div>
        <div className="row">
          <button type="submit">Filter</button>
          <button type="button" className="secondary" onClick={download}>
            Download as JSON lines
          </button>
        </div>
        {exportError && <p role="alert">{exportError}</p>}
      </form>
      <Query result={result} what="the audit log" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) =>
          data.auditLog.edges.length === 0 ? (
            <p>No records match.</p>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">On</th>
                    <th scope="col">Change</th>
                    <th scope="col">From</th>
                  </tr>
                </thead>
                <tbody>
                  {data.auditLog.edges.map(({ node }) => (
                    <tr key={node.id}>
                      <td>{formatDate(node.at)}</td>
                      <td>
                        {node.actorId} <span className="muted">({node.actorKind})</span>
                      </td>
                      <td>
                        {node.action}
                        {node.permission && <span className="muted"> with {node.permission}</span>}
                      </td>
                      <td>
                        {node.entityType} {node.entityId}
                      </td>
                      <td>
                        {node.before && <code>{node.before}</code>}
                        {node.before && node.after && " → "}
                        {node.after && <code>{node.after}</code>}
                      </td>
                      <td>
                        {node.clientAddress ?? ""} {node.client && <span className="muted">{node.client}</span>}
                        {node.traceId && <small className="muted"> trace {node.traceId}</small>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager
                cursors={cursors}
                hasNextPage={data.auditLog.pageInfo.hasNextPage}
                endCursor={data.auditLog.pageInfo.endCursor}
                onChange={setCursors}
              />
            </>
          )
        }
      </Query>
      {result.error && <ErrorMessage error={result.error} />}
    </>
  );
}
