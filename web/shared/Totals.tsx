// An order's or a checkout preview's money, as a receipt shows it: the lines' subtotal, the
// discounts, the delivery, the tax per rate (inside the prices or on top of them) and the total.
import type { ReactNode } from "react";
import { Money } from "./ui";
import type { MoneyValue } from "./format";

export interface TotalsValue {
  subtotal: MoneyValue;
  discount: MoneyValue;
  shipping: MoneyValue;
  shippingDiscount: MoneyValue;
  tax: MoneyValue;
  pricesIncludeTax: boolean;
  taxLines: ReadonlyArray<{ name: string; rate: string; amount: MoneyValue }>;
  /** Each promotion's part of the discounts (and the delivery discount). */
  discounts?: ReadonlyArray<{ name: string; code?: string | null; amount: MoneyValue }>;
  total: MoneyValue;
}

/** Whether an amount is zero ("0.00"), without turning it into a float. */
const isZero = (money: MoneyValue) => /^0*(\.0*)?$/.test(money.amount);

function Row({ label, children, testId }: { label: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <div data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function Totals({ value, totalLabel = "Total" }: { value: TotalsValue; totalLabel?: string }) {
  return (
    <dl className="totals">
      <Row label="Subtotal">
        <Money value={value.subtotal} />
      </Row>
      {value.discounts?.map((discount) => (
        <Row key={discount.name} testId="discount-line" label={discount.code ? `${discount.name} (${discount.code})` : discount.name}>
          −<Money value={discount.amount} />
        </Row>
      ))}
      {!value.discounts && !isZero(value.discount) && (
        <Row label="Discounts">
          −<Money value={value.discount} />
        </Row>
      )}
      <Row label="Delivery">
        <Money value={value.shipping} />
      </Row>
      {!value.discounts && !isZero(value.shippingDiscount) && (
        <Row label="Delivery discount">
          −<Money value={value.shippingDiscount} />
        </Row>
      )}
      {value.taxLines.map((tax) => (
        <Row
          key={tax.name}
          testId="tax-line"
          label={`${tax.name} (${tax.rate}%${value.pricesIncludeTax ? ", included" : ""})`}
        >
          <Money value={tax.amount} />
        </Row>
      ))}
      <Row label={totalLabel}>
        <strong data-testid="total">
          <Money value={value.total} />
        </strong>
      </Row>
    </dl>
  );
}
