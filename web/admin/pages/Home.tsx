import { useMemo, useState } from "react";
import { Link } from "wouter";
import { useQuery } from "urql";
import { AdminHomeDocument } from "../../shared/generated/graphql";
import { formatDate, humanize, variantTitle } from "../../shared/format";
import { Field, Money, Query } from "../../shared/ui";

const PERIODS = [
  [1, "Today"],
  [7, "Last 7 days"],
  [30, "Last 30 days"],
  [90, "Last 90 days"],
] as const;

export function HomePage() {
  const [days, setDays] = useState(30);
  // The period starts at the beginning of a day, so the query stays the same all day.
  const from = useMemo(() => {
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    start.setDate(start.getDate() - (days - 1));
    return start.toISOString();
  }, [days]);
  const [result, refetch] = useQuery({ query: AdminHomeDocument, variables: { from, lowStock: 10, recent: 10 } });
  return (
    <Query result={result} what="the dashboard" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => (
        <>
          <h1>Home</h1>
          <Field label="Period">
            <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {PERIODS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
          <section aria-labelledby="sales" className="figures">
            <div className="card">
              <h2 id="sales">Sales</h2>
              <p style={{ fontSize: "1.6rem", margin: 0 }} data-testid="sales">
                {data.orderSummary.sales.length === 0 && "No sales"}
                {data.orderSummary.sales.map((money) => (
                  <Money key={money.currencyCode} value={money} />
                ))}
              </p>
              <p className="muted">
                {data.orderSummary.paidOrders} paid orders since {formatDate(data.orderSummary.from)}
              </p>
            </div>
            <div className="card">
              <h2>Orders by status</h2>
              <table>
                <tbody>
                  {data.orderSummary.byStatus.map(({ status, count }) => (
                    <tr key={status}>
                      <th scope="row">{humanize(status)}</th>
                      <td>{count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <h2>Latest orders</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col">Customer</th>
                <th scope="col">Status</th>
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
                  <td>{node.email}</td>
                  <td>{humanize(node.status)}</td>
                  <td>
                    <Money value={node.total} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Low stock</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Available</th>
                <th scope="col">Threshold</th>
              </tr>
            </thead>
            <tbody>
              {data.lowStockProducts.edges.map(({ node }) => (
                <tr key={node.variant.id}>
                  <td>
                    <Link href={`/products/${node.product.id}`}>
                      {node.product.name}
                      {node.variant.optionValues.length > 0 && ` ${variantTitle(node.variant.optionValues)}`} (
                      {node.variant.sku})
                    </Link>
                  </td>
                  <td>{node.outOfStock ? "Out of stock" : node.available}</td>
                  <td>{node.threshold}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Query>
  );
}
