// Taxes in the dashboard: whether prices hold their tax (EU) or tax comes on top (US), how tax
// is rounded and what shipping is taxed as; every rate in force, where it comes from, a form for
// a new or changed rate and removing an admin's rate. Each mistake (a rate of "seven", a country
// name instead of its code) is a userError shown next to the form.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  RemoveTaxRateDocument,
  SetTaxRateDocument,
  TaxConfigurationDocument,
  UpdateTaxSettingsDocument,
  type TaxClass,
  type TaxRounding,
} from "../../shared/generated/graphql";
import { humanize } from "../../shared/format";
import { ErrorMessage, Field, Query, UserErrors } from "../../shared/ui";

const CLASSES: TaxClass[] = ["STANDARD", "REDUCED", "ZERO", "EXEMPT"];
const ROUNDINGS: TaxRounding[] = ["PER_LINE", "PER_TOTAL"];

export function TaxesPage() {
  const [result, refetch] = useQuery({ query: TaxConfigurationDocument });
  const [settings, saveSettings] = useMutation(UpdateTaxSettingsDocument);
  const [setRate, saveRate] = useMutation(SetTaxRateDocument);
  const [removed, removeRate] = useMutation(RemoveTaxRateDocument);
  const [formKey, setFormKey] = useState(0);
  const reload = () => refetch({ requestPolicy: "network-only" });

  const onSettings = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await saveSettings({
      input: {
        pricesIncludeTax: form.get("prices") === "included",
        rounding: form.get("rounding") as TaxRounding,
        shippingTaxClass: form.get("shipping") as TaxClass,
      },
    });
  };

  const onRate = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const answer = await saveRate({
      input: {
        countryCode: text("country"),
        region: text("region") || null,
        taxClass: text("class") as TaxClass,
        rate: text("rate"),
        name: text("name"),
      },
    });
    if (answer.data?.setTaxRate.taxConfiguration) setFormKey((k) => k + 1);
  };

  return (
    <>
      <h1>Taxes</h1>
      <Query result={result} what="the tax settings" retry={reload}>
        {(data) => {
          const tax = data.taxConfiguration;
          return (
            <>
              <form onSubmit={onSettings} aria-labelledby="tax-settings">
                <h2 id="tax-settings">Settings</h2>
                <Field label="Prices">
                  <select name="prices" defaultValue={tax.pricesIncludeTax ? "included" : "excluded"}>
                    <option value="included">Include tax (shown as customers pay them, as in the EU)</option>
                    <option value="excluded">Exclude tax (tax added at checkout, as in the US)</option>
                  </select>
                </Field>
                <Field label="Rounding">
                  <select name="rounding" defaultValue={tax.rounding}>
                    {ROUNDINGS.map((r) => (
                      <option key={r} value={r}>
                        {humanize(r)}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label="Shipping is taxed as">
                  <select name="shipping" defaultValue={tax.shippingTaxClass}>
                    {CLASSES.map((c) => (
                      <option key={c} value={c}>
                        {humanize(c)}
                      </option>
                    ))}
                  </select>
                </Field>
                {settings.error && <ErrorMessage error={settings.error} />}
                <UserErrors errors={settings.data?.updateTaxSettings.userErrors} />
                <button type="submit" disabled={settings.fetching}>
                  Save settings
                </button>
                {settings.data?.updateTaxSettings.taxConfiguration && (
                  <p role="status">Settings saved.</p>
                )}
              </form>

              <h2>Rates</h2>
              {tax.rates.length === 0 ? (
                <p>No rates: nothing is taxed. Add the rates of the places you collect tax for.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Place</th>
                      <th scope="col">Class</th>
                      <th scope="col">Rate</th>
                      <th scope="col">Name</th>
                      <th scope="col">Set by</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {tax.rates.map((rate) => {
                      const place = rate.region ? `${rate.countryCode}-${rate.region}` : rate.countryCode;
                      return (
                        <tr key={`${place}/${rate.taxClass}`}>
                          <td>{place}</td>
                          <td>{humanize(rate.taxClass)}</td>
                          <td>{rate.rate}%</td>
                          <td>{rate.name}</td>
                          <td>{rate.source === "ADMIN" ? "An admin" : "Configuration"}</td>
                          <td>
                            {rate.source === "ADMIN" && (
                              <button
                                type="button"
                                className="secondary"
                                disabled={removed.fetching}
                                aria-label={`Remove the ${humanize(rate.taxClass).toLowerCase()} rate of ${place}`}
                                onClick={() =>
                                  removeRate({
                                    input: { countryCode: rate.countryCode, region: rate.region, taxClass: rate.taxClass },
                                  })
                                }
                              >
                                Remove
                              </button>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
              {removed.error && <ErrorMessage error={removed.error} />}
              <UserErrors errors={removed.data?.removeTaxRate.userErrors} />

              <form key={formKey} onSubmit={onRate} aria-labelledby="new-rate">
                <h3 id="new-rate">Set a rate</h3>
                <Field label="Country code" hint="Two letters, like DE or US">
                  <input name="country" required maxLength={2} />
                </Field>
                <Field label="Region" hint="A state or province, for countries that tax by them (CA); blank for the whole country">
                  <input name="region" />
                </Field>
                <Field label="Tax class">
                  <select name="class" defaultValue="STANDARD">
                    {CLASSES.map((c) => (
                      <option key={c} value={c}>
                        {humanize(c)}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label="Rate (%)" hint="Up to 4 decimals, like 19 or 8.875">
                  <input name="rate" required inputMode="decimal" />
                </Field>
                <Field label="Name on receipts" hint="Like DE VAT 19%">
                  <input name="name" required />
                </Field>
                {setRate.error && <ErrorMessage error={setRate.error} />}
                <UserErrors errors={setRate.data?.setTaxRate.userErrors} />
                <button type="submit" disabled={setRate.fetching}>
                  Save rate
                </button>
              </form>
            </>
          );
        }}
      </Query>
    </>
  );
}
