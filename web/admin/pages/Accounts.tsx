import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  AdminUsersDocument,
  ApiClientsDocument,
  CreateApiClientDocument,
  FailedNotificationsDocument,
  NotificationTemplateDocument,
  RetryNotificationDocument,
  RevokeApiClientDocument,
  RotateApiClientSecretDocument,
  SetNotificationTemplateDocument,
  SetUserDisabledDocument,
  type ClientKind,
  type NotificationKind,
} from "../../shared/generated/graphql";
import { formatDate, humanize } from "../../shared/format";
import { ErrorMessage, Field, Pager, Query, UserErrors } from "../../shared/ui";

export function CustomersPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [search, setSearch] = useState("");
  const [result, refetch] = useQuery({
    query: AdminUsersDocument,
    variables: { first: 25, after: cursors[cursors.length - 1], query: search || null },
  });
  const [changed, setDisabled] = useMutation(SetUserDisabledDocument);
  return (
    <>
      <h1>Customers</h1>
      <Field label="Search by name or email">
        <input type="search" value={search} onChange={(e) => (setSearch(e.target.value), setCursors([null]))} />
      </Field>
      {changed.error && <ErrorMessage error={changed.error} />}
      <UserErrors errors={changed.data?.setUserDisabled.userErrors} />
      <Query result={result} what="customers" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            <p className="muted">{data.users.totalCount} accounts</p>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Since</th>
                  <th scope="col">Access</th>
                </tr>
              </thead>
              <tbody>
                {data.users.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>{node.name}</td>
                    <td>{node.email}</td>
                    <td>{node.roles.map(humanize).join(", ")}</td>
                    <td>{formatDate(node.createdAt)}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setDisabled({ userId: node.id, disabled: !node.disabled })}
                      >
                        {node.disabled ? "Enable" : "Disable"} <span className="visually-hidden">{node.email}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              cursors={cursors}
              hasNextPage={data.users.pageInfo.hasNextPage}
              endCursor={data.users.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
    </>
  );
}

export function ApiClientsPage() {
  const [result, refetch] = useQuery({ query: ApiClientsDocument });
  const [created, create] = useMutation(CreateApiClientDocument);
  const [rotated, rotate] = useMutation(RotateApiClientSecretDocument);
  const [revoked, revoke] = useMutation(RevokeApiClientDocument);
  // The secret of the latest create or rotate, shown once (the shop keeps only its hash).
  const [secret, setSecret] = useState<string | null>(null);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await create({
      name: String(form.get("name")),
      kind: form.get("kind") as ClientKind,
      scopes: String(form.get("scopes")).split(/\s+/).filter(Boolean),
    });
    setSecret(answer.data?.createApiClient.clientSecret ?? null);
  };
  const rotateSecret = async (id: string) => {
    const answer = await rotate({ id });
    setSecret(answer.data?.rotateApiClientSecret.clientSecret ?? null);
  };
  const error = created.error ?? rotated.error ?? revoked.error;
  return (
    <>
      <h1>API clients</h1>
      <form onSubmit={onSubmit} className="card">
        <h2>New client</h2>
        <div className="row">
          <Field label="Name" hint="Letters, digits, dashes or underscores">
            <input name="name" required pattern="[A-Za-z0-9_\-]{1,64}" />
          </Field>
          <Field label="Kind">
            <select name="kind">
              <option value="PARTNER">Partner</option>
              <option value="SERVICE">Service</option>
            </select>
          </Field>
          <Field label="Scopes (space-separated)">
            <input name="scopes" defaultValue="catalog:read" />
          </Field>
        </div>
        <button type="submit">Create client</button>
      </form>
      {error && <ErrorMessage error={error} />}
      <UserErrors
        errors={
          created.data?.createApiClient.userErrors ??
          rotated.data?.rotateApiClientSecret.userErrors ??
          revoked.data?.revokeApiClient.userErrors
        }
      />
      {secret && (
        <p className="notice" role="status">
          The client's secret, shown this once: <code>{secret}</code>
        </p>
      )}
      <Query result={result} what="API clients" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.apiClients.map((client) => (
                <tr key={client.id}>
                  <td>{client.name}</td>
                  <td>{humanize(client.kind)}</td>
                  <td>{client.scopes.join(" ")}</td>
                  <td>{formatDate(client.createdAt)}</td>
                  <td>
                    {client.revokedAt ? (
                      `Revoked ${formatDate(client.revokedAt)}`
                    ) : (
                      <div className="row">
                        <button type="button" className="secondary" onClick={() => rotateSecret(client.id)}>
                          Rotate secret <span className="visually-hidden">of {client.name}</span>
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => confirm(`Revoke ${client.name}?`) && revoke({ id: client.id })}
                        >
                          Revoke <span className="visually-hidden">{client.name}</span>
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
    </>
  );
}

const KINDS: NotificationKind[] = [
  "WELCOME", "ORDER_PLACED", "ORDER_PAID", "ORDER_CANCELLED", "ORDER_FAILED", "REFUND", "SHIPPED", "IN_TRANSIT",
  "OUT_FOR_DELIVERY", "DELIVERED", "DELIVERY_EXCEPTION", "RETURNED", "REVIEW_REQUEST",
];

export function NotificationsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [result, refetch] = useQuery({
    query: FailedNotificationsDocument,
    variables: { first: 25, after: cursors[cursors.length - 1] },
  });
  const [retried, retry] = useMutation(RetryNotificationDocument);
  return (
    <>
      <h1>Notifications</h1>
      <h2>Failed sends</h2>
      {retried.error && <ErrorMessage error={retried.error} />}
      <UserErrors errors={retried.data?.retryNotification.userErrors} />
      <Query result={result} what="failed sends" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            {data.notifications.edges.length === 0 && <p>No failed sends.</p>}
            <table>
              <tbody>
                {data.notifications.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>{humanize(node.kind)}</td>
                    <td>{node.email}</td>
                    <td>{node.lastError}</td>
                    <td>{node.attempts} attempts</td>
                    <td>
                      <button type="button" onClick={() => retry({ input: { id: node.id } })}>
                        Send again
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              cursors={cursors}
              hasNextPage={data.notifications.pageInfo.hasNextPage}
              endCursor={data.notifications.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
      <TemplateEditor />
    </>
  );
}

/** A kind's template in a language: loaded as it is now, saved whole. */
function TemplateEditor() {
  const [kind, setKind] = useState<NotificationKind>("ORDER_PAID");
  const [language, setLanguage] = useState("en");
  const [current] = useQuery({ query: NotificationTemplateDocument, variables: { kind, language }, pause: !language });
  const [saved, save] = useMutation(SetNotificationTemplateDocument);
  const template = current.data?.notificationTemplate;
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save({
      input: {
        kind,
        language,
        subject: String(form.get("subject")),
        text: String(form.get("text")),
        html: String(form.get("html")),
      },
    });
  };
  return (
    <section className="card" aria-labelledby="template">
      <h2 id="template">Template</h2>
      <div className="row">
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value as NotificationKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {humanize(k)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Language">
          <input value={language} onChange={(e) => setLanguage(e.target.value)} required size={3} />
        </Field>
      </div>
      {current.fetching && !template && <p className="loading">Loading the template…</p>}
      {current.error && <ErrorMessage error={current.error} />}
      {template && (
        // Keyed by what it shows, so switching kind or language fills the fields afresh.
        <form key={`${template.kind}-${template.language}-${template.subject}`} onSubmit={onSubmit}>
          <p className="muted">Placeholders: {template.placeholders.map((p) => `{{ ${p} }}`).join(", ")}</p>
          <Field label="Subject">
            <input name="subject" required defaultValue={template.subject} />
          </Field>
          <Field label="Text">
            <textarea name="text" rows={6} required defaultValue={template.text} />
          </Field>
          <Field label="HTML">
            <textarea name="html" rows={6} required defaultValue={template.html} />
          </Field>
          {saved.error && <ErrorMessage error={saved.error} />}
          <UserErrors errors={saved.data?.setNotificationTemplate.userErrors} />
          {saved.data?.setNotificationTemplate.template && <p role="status">Template saved.</p>}
          <button type="submit" disabled={saved.fetching}>
            Save template
          </button>
        </form>
      )}
    </section>
  );
}
