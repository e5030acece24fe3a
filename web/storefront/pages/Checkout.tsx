// Checkout, signed in or as a guest (an email instead of an account, the guest cart by its
// token): an address from the book or a new one, the carriers' prices for it, a card, and
// the shop's preview of what will be charged (lines, delivery, discounts, tax per rate, total).
// The order is placed with the preview's token: the shop charges exactly that total, or refuses
// and names what changed, and the page shows the new preview. The idempotency key is kept until
// the shop answers, so pressing again after a network failure returns the first order instead
// of making a second one.
import { useEffect, useState, type FormEvent } from "react";
import { Link, Redirect, useLocation } from "wouter";
import { useMutation, useQuery } from "urql";
import {
  ApplyPromotionCodeDocument,
  CheckoutDocument,
  CheckoutPageDocument,
  CheckoutPreviewDocument,
  GuestCartDocument,
  GuestCheckoutDocument,
  RemovePromotionCodeDocument,
  ShippingRatesDocument,
  type AddressInput,
  type CheckoutPageQuery,
} from "../../shared/generated/graphql";
import { formatMoney, variantTitle } from "../../shared/format";
import { useIdempotencyKey } from "../../shared/idempotency";
import { useSession } from "../../shared/provider";
import { Totals } from "../../shared/Totals";
import { ErrorMessage, Field, Money, Query, UserErrors } from "../../shared/ui";
import { guestCartToken } from "../cart";
import { GuestOrderView, type GuestOrder } from "./OrderStatus";


/** The built-in test processor's card tokens (a real shop gets one from its provider's form). */
const TEST_CARDS = [
  { token: "tok_visa", label: "Visa ending 4242" },
  { token: "tok_mastercard", label: "Mastercard ending 4444" },
  { token: "tok_3ds", label: "Visa ending 3184 (your bank asks you to confirm)" },
  { token: "tok_declined", label: "Test card that is declined" },
  { token: "tok_insufficient_funds", label: "Test card without funds" },
];

const EMPTY_ADDRESS: AddressInput = { fullName: "", line1: "", city: "", postalCode: "", countryCode: "US" };

export function CheckoutPage() {
  const { session } = useSession();
  return session ? <CustomerCheckout /> : <GuestCheckout />;
}

function CustomerCheckout() {
  const [result, refetch] = useQuery({ query: CheckoutPageDocument });
  return (
    <Query result={result} what="your checkout" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) =>
        !data.me ? (
          <Redirect to="/signin?next=/checkout" />
        ) : !data.me.cart || data.me.cart.itemCount === 0 ? (
          <EmptyCart />
        ) : (
          <CheckoutForm addresses={data.me.addresses} cart={data.me.cart} cartToken={null} />
        )
      }
    </Query>
  );
}

/** A guest checks out the guest cart of this browser with an email instead of an account. */
function GuestCheckout() {
  const cartToken = guestCartToken();
  const [result, refetch] = useQuery({
    query: GuestCartDocument,
    variables: { cartToken: cartToken ?? "" },
    pause: !cartToken,
  });
  if (!cartToken) return <EmptyCart />;
  return (
    <Query result={result} what="your checkout" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) =>
        !data.guestCart || data.guestCart.itemCount === 0 ? (
          <EmptyCart />
        ) : (
          <CheckoutForm addresses={[]} cart={data.guestCart} cartToken={cartToken} />
        )
      }
    </Query>
  );
}

function EmptyCart() {
  return (
    <>
      <h1>Checkout</h1>
      <p>Your cart is empty.</p>
      <Link href="/">Continue shopping</Link>
    </>
  );
}

type Me = NonNullable<CheckoutPageQuery["me"]>;

/** The form for a customer's cart (`cartToken` null) or a guest cart (with its token). */
function CheckoutForm({
  addresses,
  cart,
  cartToken,
}: {
  addresses: Me["addresses"];
  cart: NonNullable<Me["cart"]>;
  cartToken: string | null;
}) {
  const [, navigate] = useLocation();
  const [addressId, setAddressId] = useState<string>(addresses[0]?.id ?? "new");
  const [email, setEmail] = useState("");
  const [placed, setPlaced] = useState<GuestOrder | null>(null);
  const [address, setAddress] = useState<AddressInput>(EMPTY_ADDRESS);
  const [rateChoice, setRateChoice] = useState<string>("");
  const [card, setCard] = useState(TEST_CARDS[0].token);
  const [billingSame, setBillingSame] = useState(true);
  const [billing, setBilling] = useState<AddressInput>(EMPTY_ADDRESS);
  const [note, setNote] = useState("");
  const [customerCheckout, submitCustomer] = useMutation(CheckoutDocument);
  const [guestCheckout, submitGuest] = useMutation(GuestCheckoutDocument);
  const checkout = cartToken ? guestCheckout : customerCheckout;
  const { key, answered } = useIdempotencyKey("checkout");

  const chosenAddress: AddressInput | null =
    addressId === "new"
      ? address.fullName && address.line1 && address.city && address.postalCode && address.countryCode
        ? address
        : null
      : stripAddress(addresses.find((a) => a.id === addressId));
  const lines = cart.lines.map((line) => ({
    productId: line.product.id,
    variantId: line.variant.id,
    quantity: line.quantity,
  }));
  // Carriers are asked once typing pauses, not at every keystroke of the address.
  const ratesAddress = useSettled(chosenAddress, 400);
  const [rates] = useQuery({
    query: ShippingRatesDocument,
    variables: { input: { address: ratesAddress ?? EMPTY_ADDRESS, lines } },
    pause: !ratesAddress,
  });
  // The total shown is for the address entered: until the rates caught up, no order.
  const ratesCurrent = JSON.stringify(ratesAddress) === JSON.stringify(chosenAddress) && !rates.fetching;
  const rateList = rates.data?.shippingRates.rates ?? [];
  const rate = rateList.find((r) => `${r.carrier}/${r.service}` === rateChoice) ?? rateList[0];
  const shippingMethod = rate ? { carrier: rate.carrier, service: rate.service } : null;
  const [preview, refetchPreview] = useQuery({
    query: CheckoutPreviewDocument,
    variables: {
      input: {
        cartId: cart.id,
        cartToken,
        ...(addressId === "new" ? { shippingAddress: ratesAddress ?? EMPTY_ADDRESS } : { addressId }),
        shippingMethod,
      },
    },
    pause: !ratesCurrent || !rate,
    requestPolicy: "network-only",
  });
  const shown = preview.data?.checkoutPreview.preview;
  const previewCurrent = ratesCurrent && !preview.fetching && !!shown;
  // A service the preview needs did not answer: ask again a few times, a second apart, before
  // leaving the message up.
  const [previewRetries, setPreviewRetries] = useState(0);
  const previewUnavailable =
    !preview.fetching &&
    !!preview.data?.checkoutPreview.userErrors.some((e) => e.code === "SERVICE_UNAVAILABLE");
  useEffect(() => {
    // An answer starts the count again for the next failure.
    if (shown && !previewUnavailable && previewRetries > 0) setPreviewRetries(0);
    if (!previewUnavailable || previewRetries >= 3) return;
    const timer = setTimeout(() => {
      setPreviewRetries((n) => n + 1);
      refetchPreview({ requestPolicy: "network-only" });
    }, 1000);
    return () => clearTimeout(timer);
  }, [shown, previewUnavailable, previewRetries, refetchPreview]);

  const placeOrder = async (event: FormEvent) => {
    event.preventDefault();
    if (!chosenAddress) return;
    const input = {
      cartId: cart.id,
      ...(addressId === "new" ? { shippingAddress: chosenAddress } : { addressId }),
      shippingMethod,
      paymentToken: card,
      idempotencyKey: key,
      previewToken: shown?.token,
      billingAddress: billingSame ? null : billing,
      note: note.trim() || null,
    };
    const answer = cartToken
      ? await submitGuest({ input: { ...input, cartToken, email: email.trim() } })
      : await submitCustomer({ input });
    // Without an answer the order may exist: keep the key, so pressing again finds it.
    if (answer.error?.networkError || !answer.data) return;
    answered();
    // Something changed since the preview: show the new one (the message says what changed).
    if (answer.data.checkout.userErrors.some((e) => e.code === "PRICE_CHANGED")) {
      refetchPreview({ requestPolicy: "network-only" });
    }
    const order = answer.data.checkout.order;
    if (order && order.status !== "FAILED" && !answer.data.checkout.userErrors.length) {
      // Where the customer sees the order: a guest's has no account page.
      const orderPage = cartToken
        ? `/order-status?${new URLSearchParams({ number: order.number, email: email.trim() })}`
        : `/account/orders/${order.id}?placed=1`;
      // The card's bank asks the customer to confirm (3-D Secure): to its page, and back here.
      const action = answer.data.checkout.nextActionUrl;
      if (action) {
        const back = new URL(orderPage, window.location.origin).toString();
        window.location.assign(`${action}?${new URLSearchParams({ return_url: back })}`);
      } else if (cartToken) setPlaced(order as GuestOrder);
      else navigate(orderPage);
    }
  };

  const payload = checkout.data?.checkout;
  // A guest's order view has no payment: a failed order without a userError was declined.
  const declined =
    payload?.order?.status === "FAILED" &&
    (payload.userErrors.length === 0 || customerCheckout.data?.checkout.order?.payment?.status === "FAILED");
  if (placed) {
    return (
      <>
        <h1>Thank you for your order</h1>
        <p role="status">
          Your order <strong data-testid="order-number">{placed.number}</strong> is placed. We sent a confirmation to{" "}
          {placed.email}. Find it any time on <Link href="/order-status">Order status</Link> with its number and your
          email.
        </p>
        <GuestOrderView order={placed} />
      </>
    );
  }
  return (
    <form onSubmit={placeOrder}>
      <h1>Checkout</h1>
      {cartToken && (
        <section aria-labelledby="contact">
          <h2 id="contact">Contact</h2>
          <p>
            Checking out as a guest. <Link href="/signin?next=/checkout">Sign in</Link> to use your address book.
          </p>
          <Field label="Email for your confirmation">
            <input type="email" required autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
        </section>
      )}
      <section aria-labelledby="ship-to">
        <h2 id="ship-to">Shipping address</h2>
        {addresses.map((a) => (
          <label key={a.id} style={{ display: "block" }}>
            <input type="radio" name="address" checked={addressId === a.id} onChange={() => setAddressId(a.id)} />{" "}
            {a.fullName}, {a.line1}, {a.postalCode} {a.city}, {a.countryCode}
          </label>
        ))}
        <label style={{ display: "block" }}>
          <input type="radio" name="address" checked={addressId === "new"} onChange={() => setAddressId("new")} /> A new
          address
        </label>
        {addressId === "new" && <AddressFields value={address} onChange={setAddress} />}
      </section>
      <section aria-labelledby="delivery">
        <h2 id="delivery">Delivery</h2>
        {!chosenAddress && <p className="muted">Enter an address to see delivery options.</p>}
        {rates.fetching && <p className="loading">Finding delivery options…</p>}
        {rates.error && <ErrorMessage error={rates.error} />}
        <UserErrors errors={rates.data?.shippingRates.userErrors} />
        {rateList.map((r) => (
          <label key={`${r.carrier}/${r.service}`} style={{ display: "block" }}>
            <input
              type="radio"
              name="rate"
              checked={rate === r}
              onChange={() => setRateChoice(`${r.carrier}/${r.service}`)}
            />{" "}
            {r.carrierName} {r.serviceName}, {r.minTransitDays}–{r.maxTransitDays} days: {formatMoney(r.price)}
          </label>
        ))}
      </section>
      <section aria-labelledby="payment">
        <h2 id="payment">Payment</h2>
        <label style={{ display: "block" }}>
          <input type="checkbox" checked={billingSame} onChange={(e) => setBillingSame(e.target.checked)} /> Bill to
          the shipping address
        </label>
        {!billingSame && <AddressFields value={billing} onChange={setBilling} legend="Billing address" />}
        <Field label="Card">
          <select value={card} onChange={(e) => setCard(e.target.value)}>
            {TEST_CARDS.map((c) => (
              <option key={c.token} value={c.token}>
                {c.label}
              </option>
            ))}
          </select>
        </Field>
      </section>
      <section aria-labelledby="note">
        <h2 id="note">Note</h2>
        <Field label="A note for the shop (optional)">
          <textarea value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
        </Field>
      </section>
      <PromotionCodes
        cartId={cart.id}
        cartToken={cartToken}
        codes={shown?.promotionCodes ?? []}
        onChange={() => refetchPreview({ requestPolicy: "network-only" })}
      />
      <section aria-labelledby="summary">
        <h2 id="summary">Summary</h2>
        <ul>
          {cart.lines.map((line) => (
            <li key={line.variant.id}>
              {line.quantity} × {line.product.name}
              {line.variant.optionValues.length > 0 && ` (${variantTitle(line.variant.optionValues)})`}:{" "}
              <Money value={line.lineTotal} />
            </li>
          ))}
        </ul>
        {!shown && (
          <p>
            Subtotal <Money value={cart.subtotal} />
          </p>
        )}
        {preview.fetching && <p className="loading">Working out the total…</p>}
        {preview.error && <ErrorMessage error={preview.error} />}
        <UserErrors errors={preview.data?.checkoutPreview.userErrors} />
        {shown && <Totals value={shown} totalLabel="Total to pay" />}
      </section>
      {checkout.error && <ErrorMessage error={checkout.error} />}
      {checkout.error?.networkError && (
        <p role="alert">Your order may not have been placed. Press “Place order” again: you will not be charged twice.</p>
      )}
      <UserErrors errors={payload?.userErrors} />
      {payload?.order?.status === "FAILED" && (
        <p className="error" role="alert">
          {declined
            ? "Your payment did not go through and nothing was charged. Choose another card and try again."
            : "Your order could not be placed. Nothing was charged."}
        </p>
      )}
      <button type="submit" disabled={!chosenAddress || !previewCurrent || checkout.fetching || (!!cartToken && !email.trim())}>
        {checkout.fetching ? "Placing your order…" : "Place order"}
      </button>
    </form>
  );
}

/**
 * The cart's promotion codes: one typed in is applied (any case) when it applies to the cart,
 * or the shop says why not; each applied one can be removed. It sits inside the checkout's
 * form, so Enter applies the code rather than placing the order.
 */
function PromotionCodes({
  cartId,
  cartToken,
  codes,
  onChange,
}: {
  cartId: string;
  cartToken: string | null;
  codes: readonly string[];
  onChange: () => void;
}) {
  const [code, setCode] = useState("");
  const [applied, apply] = useMutation(ApplyPromotionCodeDocument);
  const [removed, remove] = useMutation(RemovePromotionCodeDocument);
  const submit = async () => {
    if (!code.trim()) return;
    const answer = await apply({ input: { cartId, cartToken, code } });
    if (answer.data?.applyPromotionCode.codes) {
      setCode("");
      onChange();
    }
  };
  return (
    <section aria-labelledby="promotion">
      <h2 id="promotion">Promotion code</h2>
      <Field label="Code">
        <input
          value={code}
          autoComplete="off"
          onChange={(e) => setCode(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void submit();
            }
          }}
        />
      </Field>
      <button type="button" className="secondary" onClick={() => void submit()} disabled={applied.fetching}>
        Apply code
      </button>
      {applied.error && <ErrorMessage error={applied.error} />}
      <UserErrors errors={applied.data?.applyPromotionCode.userErrors} />
      {removed.error && <ErrorMessage error={removed.error} />}
      {codes.length > 0 && (
        <ul aria-label="Applied codes">
          {codes.map((applied) => (
            <li key={applied}>
              {applied}{" "}
              <button
                type="button"
                className="secondary"
                aria-label={`Remove code ${applied}`}
                onClick={async () => {
                  await remove({ input: { cartId, cartToken, code: applied } });
                  onChange();
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** `value` once it has stayed the same for `ms` (compared by content). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  const key = JSON.stringify(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
    // `key` stands for `value`'s content: a new object with the same fields changes nothing.
  }, [key, ms]);
  return settled;
}

function stripAddress(a: Me["addresses"][number] | undefined): AddressInput | null {
  if (!a) return null;
  return {
    fullName: a.fullName,
    line1: a.line1,
    line2: a.line2,
    city: a.city,
    region: a.region,
    postalCode: a.postalCode,
    countryCode: a.countryCode,
    phone: a.phone,
  };
}

export function AddressFields({
  value,
  onChange,
  legend = "Address",
}: {
  value: AddressInput;
  onChange: (value: AddressInput) => void;
  legend?: string;
}) {
  const field = (name: keyof AddressInput, label: string, required = true, autoComplete?: string) => (
    <Field label={label}>
      <input
        required={required}
        autoComplete={autoComplete}
        value={(value[name] as string | null | undefined) ?? ""}
        onChange={(e) => onChange({ ...value, [name]: e.target.value })}
      />
    </Field>
  );
  return (
    <fieldset>
      <legend>{legend}</legend>
      {field("fullName", "Full name", true, "name")}
      {field("line1", "Street and number", true, "address-line1")}
      {field("line2", "Apartment, suite (optional)", false, "address-line2")}
      {field("city", "City", true, "address-level2")}
      {field("region", "State, province or region (where the country has them)", false, "address-level1")}
      {field("postalCode", "Postal code", true, "postal-code")}
      {field("countryCode", "Country code (e.g. US, GB)", true, "country")}
    </fieldset>
  );
}
