// Promotions in the dashboard: every discount code and automatic promotion with its uses, a
// form for a new one (what it gives, what it applies to, its minimum, dates and limits, whether
// it combines), and switching one on or off. The shop answers each mistake with a userError
// shown next to the form.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  CreatePromotionDocument,
  PromotionsDocument,
  SetPromotionActiveDocument,
  type PromotionKind,
  type PromotionTarget,
  type PromotionsQuery,
} from "../../shared/generated/graphql";
import { formatDate, formatMoney, humanize } from "../../shared/format";
import { ErrorMessage, Field, Query, UserErrors } from "../../shared/ui";

const KINDS: PromotionKind[] = ["PERCENT_OFF", "AMOUNT_OFF", "FREE_SHIPPING", "BUY_X_GET_Y"];
const TARGETS: PromotionTarget[] = ["ORDER", "PRODUCTS", "COLLECTIONS", "CATEGORIES"];

type Promotion = PromotionsQuery["promotions"][number];

/** What a promotion gives, as a person reads it. */
function benefit(p: Promotion): string {
  switch (p.kind) {
    case "PERCENT_OFF":
      return `${p.percent}% off`;
    case "AMOUNT_OFF":
      return `${formatMoney(p.amount)} off`;
    case "FREE_SHIPPING":
      return "Free shipping";
    case "BUY_X_GET_Y":
      return `Buy ${p.buyQuantity}, get ${p.getQuantity} at ${p.percent}% off`;
  }
}

export function PromotionsPage() {
  const [result, refetch] = useQuery({ query: PromotionsDocument });
  const [created, create] = useMutation(CreatePromotionDocument);
  const [switched, setActive] = useMutation(SetPromotionActiveDocument);
  const [kind, setKind] = useState<PromotionKind>("PERCENT_OFF");
  const [formKey, setFormKey] = useState(0);
  const reload = () => refetch({ requestPolicy: "network-only" });

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const optional = (name: string) => text(name) || null;
    const count = (name: string) => (text(name) ? Number.parseInt(text(name), 10) : null);
    const time = (name: string) => (text(name) ? new Date(text(name)).toISOString() : null);
    const ids = text("ids")
      .split(",")
      .map((id) => id.trim())
      .filter((id) => id.length > 0);
    const answer = await create({
      input: {
        name: text("name"),
        code: optional("code"),
        kind,
        percent: kind === "PERCENT_OFF" || kind === "BUY_X_GET_Y" ? optional("percent") : null,
        amount: kind === "AMOUNT_OFF" ? optional("amount") : null,
        buyQuantity: kind === "BUY_X_GET_Y" ? count("buy") : null,
        getQuantity: kind === "BUY_X_GET_Y" ? count("get") : null,
        appliesTo: text("target") as PromotionTarget,
        appliesToIds: ids,
        currencyCode: "USD",
        minimumSubtotal: optional("minimum"),
        startsAt: time("starts"),
        endsAt: time("ends"),
        usageLimit: count("limit"),
        perCustomerLimit: count("perCustomer"),
        combines: form.get("combines") === "on",
      },
    });
    if (answer.data?.createPromotion.promotion) {
      setFormKey((k) => k + 1);
      reload();
    }
  };

  return (
    <>
      <h1>Promotions</h1>
      <Query result={result} what="the promotions" retry={reload}>
        {(data) =>
          data.promotions.length === 0 ? (
            <p>No promotions yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Code</th>
                  <th scope="col">Gives</th>
                  <th scope="col">Applies to</th>
                  <th scope="col">Minimum</th>
                  <th scope="col">Dates</th>
                  <th scope="col">Uses</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.promotions.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td>{p.code ?? "Automatic"}</td>
                    <td>{benefit(p)}</td>
                    <td>
                      {humanize(p.appliesTo)}
                      {p.appliesToIds.length > 0 && `: ${p.appliesToIds.join(", ")}`}
                    </td>
                    <td>{p.minimumSubtotal ? formatMoney(p.minimumSubtotal) : "None"}</td>
                    <td>
                      {p.startsAt ? formatDate(p.startsAt) : "Now"} – {p.endsAt ? formatDate(p.endsAt) : "no end"}
                    </td>
                    <td>
                      {p.uses}
                      {p.usageLimit != null && ` of ${p.usageLimit}`}
                    </td>
                    <td>{p.active ? "Active" : "Inactive"}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        disabled={switched.fetching}
                        aria-label={`${p.active ? "Deactivate" : "Activate"} ${p.name}`}
                        onClick={() => setActive({ input: { id: p.id, active: !p.active } })}
                      >
                        {p.active ? "Deactivate" : "Activate"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Query>
      {switched.error && <ErrorMessage error={switched.error} />}
      <UserErrors errors={switched.data?.setPromotionActive.userErrors} />

      <form key={formKey} onSubmit={onSubmit} aria-labelledby="new-promotion">
        <h2 id="new-promotion">New promotion</h2>
        <Field label="Name" hint="What customers see, like Summer sale">
          <input name="name" required />
        </Field>
        <Field label="Code" hint="Customers type it in any case; leave empty for an automatic promotion">
          <input name="code" autoComplete="off" />
        </Field>
        <Field label="Kind">
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as PromotionKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {humanize(k)}
              </option>
            ))}
          </select>
        </Field>
        {(kind === "PERCENT_OFF" || kind === "BUY_X_GET_Y") && (
          <Field label="Percent off" hint={kind === "BUY_X_GET_Y" ? "100 makes them free" : "Like 10 or 12.5"}>
            <input name="percent" inputMode="decimal" defaultValue={kind === "BUY_X_GET_Y" ? "100" : ""} />
          </Field>
        )}
        {kind === "AMOUNT_OFF" && (
          <Field label="Amount off (USD)">
            <input name="amount" inputMode="decimal" required />
          </Field>
        )}
        {kind === "BUY_X_GET_Y" && (
          <>
            <Field label="Buy">
              <input name="buy" inputMode="numeric" required />
            </Field>
            <Field label="Get">
              <input name="get" inputMode="numeric" required />
            </Field>
          </>
        )}
        <Field label="Applies to">
          <select name="target" defaultValue="ORDER">
            {TARGETS.map((t) => (
              <option key={t} value={t}>
                {t === "ORDER" ? "The whole order" : humanize(t)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Their ids" hint="Comma-separated product, collection or category ids">
          <input name="ids" />
        </Field>
        <Field label="Minimum subtotal (USD)">
          <input name="minimum" inputMode="decimal" />
        </Field>
        <Field label="Starts">
          <input name="starts" type="datetime-local" />
        </Field>
        <Field label="Ends">
          <input name="ends" type="datetime-local" />
        </Field>
        <Field label="Uses in all">
          <input name="limit" inputMode="numeric" />
        </Field>
        <Field label="Uses per customer">
          <input name="perCustomer" inputMode="numeric" />
        </Field>
        <label className="field">
          <span>
            <input name="combines" type="checkbox" defaultChecked /> Combines with other promotions
          </span>
        </label>
        {created.error && <ErrorMessage error={created.error} />}
        <UserErrors errors={created.data?.createPromotion.userErrors} />
        <button type="submit" disabled={created.fetching}>
          Create promotion
        </button>
      </form>
    </>
  );
}
