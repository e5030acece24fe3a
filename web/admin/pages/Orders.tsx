import { useState, type FormEvent } from "react";
import { Link, useParams } from "wouter";
import { useMutation, useQuery } from "urql";
import {
  AdminOrderDocument,
  CancelOrderDocument,
  FulfilOrderDocument,
  OrdersDocument,
  RefundPaymentDocument,
  ShipmentsDocument,
  type OrderStatus,
  type ShipmentStatus,
} from "../../shared/generated/graphql";
import { addressLine, formatDate, humanize } from "../../shared/format";
import { useIdempotencyKey } from "../../shared/idempotency";
import { Totals } from "../../shared/Totals";
import { ErrorMessage, Field, Money, Pager, Query, UserErrors } from "../../shared/ui";

const ORDER_STATUSES: OrderStatus[] = ["PENDING", "PAID", "FULFILLED", "DELIVERED", "CANCELLED", "FAILED"];

/** One page of 25 at a time: the list never loads every order. */
export function OrdersPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [status, setStatus] = useState<OrderStatus | "">("");
  const [result, refetch] = useQuery({
    query: OrdersDocument,
    variables: { first: 25, after: cursors[cursors.length - 1], filter: status ? { status } : null, sort: "NEWEST_FIRST" },
  });
  return (
    <>
      <h1>Orders</h1>
      <Field label="Status">
        <select
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as OrderStatus | "");
            setCursors([null]);
          }}
        >
          <option value="">Any</option>
          {ORDER_STATUSES.map((s) => (
            <option key={s} value={s}>
              {humanize(s)}
            </option>
          ))}
        </select>
      </Field>
      <Query result={result} what="orders" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Status</th>
                  <th scope="col">Payment</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {data.orders.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>
                      <Link href={`/orders/${node.id}`}>{node.number}</Link>
                    </td>
                    <td>{formatDate(node.createdAt)}</td>
                    <td>{node.customer?.name ?? node.email}</td>
                    <td>{humanize(node.status)}</td>
                    <td>{node.payment ? humanize(node.payment.status) : "—"}</td>
                    <td>
                      <Money value={node.total} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              cursors={cursors}
              hasNextPage={data.orders.pageInfo.hasNextPage}
              endCursor={data.orders.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
    </>
  );
}

export function OrderPage() {
  const { id } = useParams<{ id: string }>();
  const [result, refetch] = useQuery({ query: AdminOrderDocument, variables: { id } });
  return (
    <Query result={result} what="the order" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => {
        const order = data.order;
        if (!order) return <h1>No such order</h1>;
        return (
          <>
            <h1>Order {order.number}</h1>
            <p>
              <span className="status" data-testid="order-status">{humanize(order.status)}</span> · placed{" "}
              {formatDate(order.createdAt)} by {order.customer ? order.customer.name : "a guest"} ({order.email})
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">SKU</th>
                  <th scope="col">Product</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {order.lines.map((line) => (
                  <tr key={line.sku}>
                    <td>{line.sku}</td>
                    <td>{line.name}</td>
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
            {order.note && <p data-testid="order-note">Customer's note: {order.note}</p>}
            <h2>Payment</h2>
            {order.payment ? (
              <>
                <p data-testid="payment-status">
                  {order.payment.method.brand} ending {order.payment.method.last4}: {humanize(order.payment.status)} ·
                  captured <Money value={order.payment.capturedAmount} /> · refunded{" "}
                  <Money value={order.payment.refundedAmount} />
                </p>
                <ul>
                  {order.payment.refunds.map((refund) => (
                    <li key={refund.id}>
                      {formatDate(refund.createdAt)}: <Money value={refund.amount} /> ({refund.reason})
                    </li>
                  ))}
                </ul>
                <Refund paymentId={order.payment.id} />
              </>
            ) : (
              <p className="muted">No payment.</p>
            )}
            <h2>Shipments</h2>
            <ul>
              {order.shipments.map((s) => (
                <li key={s.id}>
                  {s.carrier} {s.service} {s.trackingNumber}: {humanize(s.status)}
                </li>
              ))}
            </ul>
            {order.status === "PAID" && (
              <Fulfil orderId={order.id} lines={order.lines.map((l) => ({ productId: l.product.id, quantity: l.quantity }))} />
            )}
            {(order.status === "PAID" || order.status === "FULFILLED") && <Cancel orderId={order.id} />}
            <h2>History</h2>
            <ol>
              {order.statusHistory.map((entry) => (
                <li key={`${entry.status}-${entry.at}`}>
                  {formatDate(entry.at)}: {humanize(entry.status)} by {entry.actor.toLowerCase()}
                  {entry.reason && ` (${entry.reason})`}
                </li>
              ))}
            </ol>
          </>
        );
      }}
    </Query>
  );
}

function Refund({ paymentId }: { paymentId: string }) {
  const [refunded, refund] = useMutation(RefundPaymentDocument);
  const { key, answered } = useIdempotencyKey(`refund.${paymentId}`);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await refund({
      input: { paymentId, amount: String(form.get("amount")), reason: String(form.get("reason")), idempotencyKey: key },
    });
    // Only an answer ends this refund; after a network failure the same key goes again.
    if (answer.data) answered();
  };
  return (
    <form onSubmit={onSubmit} className="card">
      <h3>Refund</h3>
      <div className="row">
        <Field label="Amount">
          <input name="amount" inputMode="decimal" required pattern="[0-9]+(\.[0-9]{1,2})?" />
        </Field>
        <Field label="Reason">
          <input name="reason" required />
        </Field>
      </div>
      {refunded.error && <ErrorMessage error={refunded.error} />}
      <UserErrors errors={refunded.data?.refundPayment.userErrors} />
      {refunded.data?.refundPayment.refund && <p role="status">Refunded.</p>}
      <button type="submit" disabled={refunded.fetching}>
        Refund
      </button>
    </form>
  );
}

function Fulfil({ orderId, lines }: { orderId: string; lines: { productId: string; quantity: number }[] }) {
  const [fulfilled, fulfil] = useMutation(FulfilOrderDocument);
  return (
    <form
      className="card"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        fulfil({
          input: { orderId, shipments: [{ carrier: String(form.get("carrier")), service: String(form.get("service")), lines }] },
        });
      }}
    >
      <h3>Ship everything</h3>
      <div className="row">
        <Field label="Carrier">
          <input name="carrier" required defaultValue="ups" />
        </Field>
        <Field label="Service">
          <input name="service" required defaultValue="ground" />
        </Field>
      </div>
      {fulfilled.error && <ErrorMessage error={fulfilled.error} />}
      <UserErrors errors={fulfilled.data?.fulfilOrder.userErrors} />
      <button type="submit" disabled={fulfilled.fetching}>
        Create shipment
      </button>
    </form>
  );
}

function Cancel({ orderId }: { orderId: string }) {
  // Cancelling gives the stock back and refunds the payment (orders' cancelOrder).
  const [cancelled, cancel] = useMutation(CancelOrderDocument);
  return (
    <form
      className="card"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        cancel({ input: { orderId, reason: String(form.get("reason")) } });
      }}
    >
      <h3>Cancel the order</h3>
      <Field label="Reason">
        <input name="reason" required />
      </Field>
      {cancelled.error && <ErrorMessage error={cancelled.error} />}
      <UserErrors errors={cancelled.data?.cancelOrder.userErrors} />
      <button type="submit" className="secondary" disabled={cancelled.fetching}>
        Cancel order
      </button>
    </form>
  );
}

export function ShipmentsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [status, setStatus] = useState<ShipmentStatus | "">("");
  const [result, refetch] = useQuery({
    query: ShipmentsDocument,
    variables: { first: 25, after: cursors[cursors.length - 1], status: status || null },
  });
  return (
    <>
      <h1>Shipments</h1>
      <Field label="Status">
        <select value={status} onChange={(e) => (setStatus(e.target.value as ShipmentStatus | ""), setCursors([null]))}>
          <option value="">Any</option>
          {["LABEL_CREATED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "EXCEPTION", "RETURNED"].map((s) => (
            <option key={s} value={s}>
              {humanize(s)}
            </option>
          ))}
        </select>
      </Field>
      <Query result={result} what="shipments" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Tracking</th>
                  <th scope="col">Order</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {data.shipments.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>
                      {node.carrier} {node.trackingNumber}
                    </td>
                    <td>{node.order && <Link href={`/orders/${node.order.id}`}>{node.order.number}</Link>}</td>
                    <td>{node.order?.customer?.email}</td>
                    <td>{humanize(node.status)}</td>
                    <td>{formatDate(node.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              cursors={cursors}
              hasNextPage={data.shipments.pageInfo.hasNextPage}
              endCursor={data.shipments.pageInfo.endCursor}
              onChange={setCursors}
            />
          </>
        )}
      </Query>
    </>
  );
}
