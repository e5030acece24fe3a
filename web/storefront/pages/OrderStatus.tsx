// A guest's order: found with its number and the email it was placed with (a wrong pair finds
// nothing, whichever half is wrong), and the same view right after a guest's checkout.
import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "wouter";
import { useQuery } from "urql";
import { GuestOrderDocument, type GuestOrderQuery } from "../../shared/generated/graphql";
import { addressLine, formatDate, humanize } from "../../shared/format";
import { Totals } from "../../shared/Totals";
import { Field, Money, Query } from "../../shared/ui";

export type GuestOrder = NonNullable<GuestOrderQuery["guestOrder"]>;

export function OrderStatusPage() {
  // Back from the bank's page after checkout, the address names the order.
  const [params] = useSearchParams();
  const given = params.get("number") && params.get("email") ? { number: params.get("number")!, email: params.get("email")! } : null;
  const [number, setNumber] = useState(given?.number ?? "");
  const [email, setEmail] = useState(given?.email ?? "");
  const [asked, setAsked] = useState<{ number: string; email: string } | null>(given);
  const [result, refetch] = useQuery({
    query: GuestOrderDocument,
    variables: asked ?? { number: "", email: "" },
    pause: !asked,
    requestPolicy: "network-only",
  });
  // A pending order is looked at again every two seconds until its payment settled.
  const pending = result.data?.guestOrder?.status === "PENDING";
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 2000);
    return () => clearInterval(timer);
  }, [pending, refetch]);
  const find = (event: FormEvent) => {
    event.preventDefault();
    setAsked({ number: number.trim(), email: email.trim() });
  };
  return (
    <>
      <h1>Order status</h1>
      <p>Bought without an account? Find your order with its number (in your confirmation email) and your email.</p>
      <form onSubmit={find} aria-label="Find an order">
        <Field label="Order number">
          <input required value={number} placeholder="SO-…" onChange={(e) => setNumber(e.target.value)} />
        </Field>
        <Field label="Email">
          <input type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <button type="submit">Find order</button>
      </form>
      {asked && (
        <Query result={result} what="your order" retry={() => refetch({ requestPolicy: "network-only" })}>
          {(data) =>
            data.guestOrder ? (
              <GuestOrderView order={data.guestOrder} />
            ) : (
              <p role="status">We found no order with this number and email.</p>
            )
          }
        </Query>
      )}
    </>
  );
}

export function GuestOrderView({ order }: { order: GuestOrder }) {
  return (
    <section aria-labelledby="guest-order">
      <h2 id="guest-order">Order {order.number}</h2>
      <p>
        Placed {formatDate(order.createdAt)} · Status:{" "}
        <span className="status" data-testid="order-status">
          {humanize(order.status)}
        </span>
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((line) => (
            <tr key={line.sku}>
              <td>
                {line.name}
                {line.variantTitle && <div className="muted">{line.variantTitle}</div>}
              </td>
              <td>{line.quantity}</td>
              <td>
                <Money value={line.lineTotal} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Totals value={order} />
      <p>Ship to {addressLine(order.shippingAddress)}</p>
      <p>Bill to {addressLine(order.billingAddress)}</p>
      {order.note && <p>Your note: {order.note}</p>}
    </section>
  );
}
