// Money and dates for the reader's locale; amounts arrive as decimal strings.

export interface MoneyValue {
  amount: string;
  currencyCode: string;
}

const locale = typeof navigator === "undefined" ? "en-US" : navigator.language || "en-US";

export function formatMoney(money: MoneyValue | null | undefined): string {
  if (!money) return "";
  return new Intl.NumberFormat(locale, { style: "currency", currency: money.currencyCode }).format(
    Number(money.amount),
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** `ORDER_PAID` as "Order paid". */
export function humanize(value: string): string {
  const text = value.toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A variant's option values as shoppers read them: "M / Blue". */
export function variantTitle(values: ReadonlyArray<{ value: string }>): string {
  return values.map((v) => v.value).join(" / ");
}

/** An address on one line: "Ada Lovelace, 1 Main St, 62701 Springfield, US". */
export function addressLine(a: {
  fullName: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  countryCode: string;
}): string {
  return [a.fullName, a.line1, a.line2, `${a.postalCode} ${a.city}`, a.countryCode].filter(Boolean).join(", ");
}
