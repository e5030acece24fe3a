import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation, useParams, useSearchParams } from "wouter";
import { useMutation, useQuery } from "urql";
import {
  AccountDocument,
  AddAddressDocument,
  LogoutDocument,
  NotificationSettingsDocument,
  OrderDocument,
  OrderHistoryDocument,
  UpdateNotificationPreferencesDocument,
  WriteReviewDocument,
  type AddressInput,
} from "../../shared/generated/graphql";
import { addressLine, formatDate, humanize } from "../../shared/format";
import { ChangePassword } from "./Password";
import { TwoFactor } from "../../shared/TwoFactor";
import { EmailSettings } from "./Email";
import { Sessions } from "./Sessions";
import { useSession } from "../../shared/provider";
import { Totals } from "../../shared/Totals";
import { ErrorMessage, Field, Money, Pager, Query, UserErrors } from "../../shared/ui";
import { AddressFields } from "./Checkout";

function AccountNav() {
  return (
    <nav aria-label="Your account" className="row">
      <Link href="/account">Profile and addresses</Link>
      <Link href="/account/orders">Orders</Link>
      <Link href="/account/notifications">Emails</Link>
    </nav>
  );
}

function SignInFirst() {
  return (
    <p>
      <Link href={`/signin?next=${encodeURIComponent(location.pathname)}`}>Sign in</Link> to see your account.
    </p>
  );
}

export function AccountPage() {
  const { session, store } = useSession();
  const [result, refetch] = useQuery({ query: AccountDocument, pause: !session });
  const [, logout] = useMutation(LogoutDocument);
  const [, navigate] = useLocation();
  if (!session) return <SignInFirst />;
  const signOut = async () => {
    await logout({ refreshToken: session.refreshToken });
    store.signOut();
    navigate("/");
  };
  return (
    <>
      <h1>Your account</h1>
      <AccountNav />
      <Query result={result} what="your account" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) =>
          data.me && (
            <>
              <p>
                {data.me.name} · {data.me.email}
              </p>
              <h2>Addresses</h2>
              <ul>
                {data.me.addresses.map((a) => (
                  <li key={a.id}>
                    {a.fullName}, {a.line1}, {a.postalCode} {a.city}, {a.countryCode}
                  </li>
                ))}
              </ul>
              <NewAddress />
              <EmailSettings email={data.me.email} verified={data.me.emailVerified} />
              <ChangePassword />
              <TwoFactor onEnabled={() => (store.signOut(), navigate("/signin"))} />
              <Sessions sessions={data.me.sessions} onChange={() => refetch({ requestPolicy: "network-only" })} />
            </>
          )
        }
      </Query>
      <button type="button" className="secondary" onClick={signOut}>
        Sign out
      </button>
    </>
  );
}

function NewAddress() {
  const [address, setAddress] = useState<AddressInput>({ fullName: "", line1: "", city: "", postalCode: "", countryCode: "US" });
  const [added, add] = useMutation(AddAddressDocument);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    await add({ input: address });
  };
  return (
    <form onSubmit={onSubmit}>
      <h3>Add an address</h3>
      <AddressFields value={address} onChange={setAddress} />
      {added.error && <ErrorMessage error={added.error} />}
      <UserErrors errors={added.data?.addAddress.userErrors} />
      <button type="submit" disabled={added.fetching}>
        Save address
      </button>
    </form>
  );
}

export function OrdersPage() {
  const { session } = useSession();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [result, refetch] = useQuery({
    query: OrderHistoryDocument,
    variables: { first: 10, after: cursors[cursors.length - 1] },
    pause: !session,
  });
  if (!session) return <SignInFirst />;
  return (
    <>
      <h1>Your orders</h1>
      <AccountNav />
      <Query result={result} what="your orders" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) =>
          data.me && (
            <>
              {data.me.orders.edges.length === 0 && <p>No orders yet.</p>}
              <table>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Placed</th>
                    <th scope="col">Status</th>
                    <th scope="col">Total</th>
                  </tr>
                </thead>
                <tbody>
                  {data.me.orders.edges.map(({ node }) => (
                    <tr key={node.id}>
                      <td>
                        <Link href={`/account/orders/${node.id}`}>{node.number}</Link>
                      </td>
                      <td>{formatDate(node.createdAt)}</td>
                      <td className="status">{humanize(node.status)}</td>
                      <td>
                        <Money value={node.total} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager
                cursors={cursors}
                hasNextPage={data.me.orders.pageInfo.hasNextPage}
                endCursor={data.me.orders.pageInfo.endCursor}
                onChange={setCursors}
              />
            </>
          )
        }
      </Query>
    </>
  );
}

export function OrderPage() {
  const { id } = useParams<{ id: string }>();
  const { session } = useSession();
  const [params] = useSearchParams();
  const [result, refetch] = useQuery({ query: OrderDocument, variables: { id }, pause: !session });
  // A pending order is looked at again every two seconds until its payment settled (back from
  // the bank's page, the capture arrives moments later).
  const pending = result.data?.order?.status === "PENDING";
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 2000);
    return () => clearInterval(timer);
  }, [pending, refetch]);
  if (!session) return <SignInFirst />;
  return (
    <Query result={result} what="your order" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => {
        const order = data.order;
        if (!order) return <h1>No such order</h1>;
        return (
          <>
            {params.get("placed") && (
              <p className="notice" role="status">
                Thank you! Your order {order.number} is placed.
              </p>
            )}
            <h1>Order {order.number}</h1>
            <AccountNav />
            <p>
              Status: <span className="status" data-testid="order-status">{humanize(order.status)}</span>{" "}
              <button type="button" className="secondary" onClick={() => refetch({ requestPolicy: "network-only" })}>
                Refresh
              </button>
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
                      {line.product ? <Link href={`/p/${line.product.slug}`}>{line.name}</Link> : line.name}
                      {line.variantTitle && <div className="muted">{line.variantTitle}</div>}
                      {order.status === "DELIVERED" && line.product && (
                        <ReviewForm productId={line.product.id} productName={line.name} />
                      )}
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
            {order.payment?.status === "REQUIRES_ACTION" && order.payment.nextActionUrl && (
              <p className="notice" role="status">
                Your bank asks you to confirm this payment.{" "}
                <a
                  href={`${order.payment.nextActionUrl}?${new URLSearchParams({ return_url: window.location.href })}`}
                >
                  Confirm with your bank
                </a>
              </p>
            )}
            {order.payment && (
              <p>
                Paid with {order.payment.method.brand} ending {order.payment.method.last4}: {humanize(order.payment.status)}
              </p>
            )}
            <h2>Shipments</h2>
            {order.shipments.length === 0 && <p className="muted">Not shipped yet.</p>}
            {order.shipments.map((shipment) => (
              <section key={shipment.id} className="card" aria-label={`Shipment ${shipment.trackingNumber}`}>
                <p>
                  {shipment.carrier.toUpperCase()} {shipment.service} · tracking{" "}
                  {shipment.trackingUrl ? <a href={shipment.trackingUrl}>{shipment.trackingNumber}</a> : shipment.trackingNumber} ·{" "}
                  <span className="status">{humanize(shipment.status)}</span>
                </p>
                <ol>
                  {shipment.events.map((event) => (
                    <li key={`${event.status}-${event.occurredAt}`}>
                      {formatDate(event.occurredAt)}: {event.description}
                      {event.location && ` (${event.location})`}
                    </li>
                  ))}
                </ol>
              </section>
            ))}
            <h2>History</h2>
            <ol>
              {order.statusHistory.map((entry) => (
                <li key={`${entry.status}-${entry.at}`}>
                  {formatDate(entry.at)}: {humanize(entry.status)}
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

function ReviewForm({ productId, productName }: { productId: string; productName: string }) {
  const [open, setOpen] = useState(false);
  const [rating, setRating] = useState(5);
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [written, write] = useMutation(WriteReviewDocument);
  const review = written.data?.writeReview.review;
  if (review) {
    return (
      <p role="status">
        Thank you for your review{review.status === "PENDING" ? "; it appears once a moderator has read it" : ""}.
      </p>
    );
  }
  if (!open) {
    return (
      <div>
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          Review {productName}
        </button>
      </div>
    );
  }
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        write({ input: { productId, rating, title, body } });
      }}
    >
      <Field label="Rating">
        <select value={rating} onChange={(e) => setRating(Number(e.target.value))}>
          {[5, 4, 3, 2, 1].map((stars) => (
            <option key={stars} value={stars}>
              {stars} stars
            </option>
          ))}
        </select>
      </Field>
      <Field label="Title">
        <input required value={title} onChange={(e) => setTitle(e.target.value)} />
      </Field>
      <Field label="Your review">
        <textarea required rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
      </Field>
      {written.error && <ErrorMessage error={written.error} />}
      <UserErrors errors={written.data?.writeReview.userErrors} />
      <button type="submit" disabled={written.fetching}>
        Publish review
      </button>
    </form>
  );
}

export function NotificationsPage() {
  const { session } = useSession();
  const [result, refetch] = useQuery({ query: NotificationSettingsDocument, variables: { first: 10 }, pause: !session });
  const [saved, save] = useMutation(UpdateNotificationPreferencesDocument);
  if (!session) return <SignInFirst />;
  return (
    <>
      <h1>Emails</h1>
      <AccountNav />
      <Query result={result} what="your email settings" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) =>
          data.me && (
            <>
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  const form = new FormData(event.currentTarget);
                  save({ input: { language: String(form.get("language")), marketing: form.get("marketing") === "on" } });
                }}
              >
                <Field label="Language of emails">
                  <select name="language" defaultValue={data.me.notificationPreferences.language}>
                    <option value="en">English</option>
                    <option value="de">Deutsch</option>
                    <option value="fr">Français</option>
                  </select>
                </Field>
                <label>
                  <input type="checkbox" name="marketing" defaultChecked={data.me.notificationPreferences.marketing} /> Send me
                  offers and news
                </label>
                <div>
                  <button type="submit" disabled={saved.fetching}>
                    Save
                  </button>
                </div>
                {saved.error && <ErrorMessage error={saved.error} />}
                <UserErrors errors={saved.data?.updateNotificationPreferences.userErrors} />
                {saved.data?.updateNotificationPreferences.preferences && <p role="status">Saved.</p>}
              </form>
              <h2>Sent to you</h2>
              <ul>
                {data.me.notifications.edges.map(({ node }) => (
                  <li key={node.id}>
                    {formatDate(node.createdAt)}: {node.subject} ({humanize(node.status)})
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </Query>
    </>
  );
}
