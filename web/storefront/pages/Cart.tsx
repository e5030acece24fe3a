import { Link } from "wouter";
import { useMutation, useQuery } from "urql";
import {
  CartDocument,
  GuestCartDocument,
  RemoveCartLineDocument,
  UpdateCartLineDocument,
  type CartQuery,
} from "../../shared/generated/graphql";
import { useSession } from "../../shared/provider";
import { ErrorMessage, Money, Query, UserErrors } from "../../shared/ui";
import { guestCartToken } from "../cart";
import { variantTitle } from "../../shared/format";

type CartData = NonNullable<CartQuery["cart"]>;

export function CartPage() {
  const { session } = useSession();
  return session ? <CustomerCart /> : <GuestCart />;
}

function CustomerCart() {
  const [result, refetch] = useQuery({ query: CartDocument });
  return (
    <Query result={result} what="your cart" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => <CartView cart={data.cart} cartToken={null} />}
    </Query>
  );
}

function GuestCart() {
  const cartToken = guestCartToken();
  const [result, refetch] = useQuery({
    query: GuestCartDocument,
    variables: { cartToken: cartToken ?? "" },
    pause: !cartToken,
  });
  if (!cartToken) return <CartView cart={null} cartToken={null} />;
  return (
    <Query result={result} what="your cart" retry={() => refetch({ requestPolicy: "network-only" })}>
      {(data) => <CartView cart={data.guestCart} cartToken={cartToken} />}
    </Query>
  );
}

function CartView({ cart, cartToken }: { cart: CartData | null | undefined; cartToken: string | null }) {
  const { session } = useSession();
  const [updated, updateLine] = useMutation(UpdateCartLineDocument);
  const [removed, removeLine] = useMutation(RemoveCartLineDocument);
  if (!cart || cart.itemCount === 0) {
    return (
      <>
        <h1>Your cart</h1>
        <p>Your cart is empty.</p>
        <Link href="/">Continue shopping</Link>
      </>
    );
  }
  const error = updated.error ?? removed.error;
  return (
    <>
      <h1>Your cart</h1>
      {error && <ErrorMessage error={error} />}
      <UserErrors errors={updated.data?.updateCartLine.userErrors ?? removed.data?.removeCartLine.userErrors} />
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Total</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {cart.lines.map((line) => (
            <tr key={line.variant.id}>
              <td>
                <Link href={`/p/${line.product.slug}`}>{line.product.name}</Link>
                {line.variant.optionValues.length > 0 && (
                  <div className="muted">{variantTitle(line.variant.optionValues)}</div>
                )}
                {!line.available && <div className="error">No longer available in this quantity</div>}
              </td>
              <td>
                <Money value={line.unitPrice} />
              </td>
              <td>
                <label className="visually-hidden" htmlFor={`qty-${line.variant.id}`}>
                  Quantity of {line.product.name} {variantTitle(line.variant.optionValues)}
                </label>
                <input
                  id={`qty-${line.variant.id}`}
                  type="number"
                  min={1}
                  max={99}
                  defaultValue={line.quantity}
                  onBlur={(e) => {
                    const quantity = Number(e.target.value);
                    if (quantity > 0 && quantity !== line.quantity) {
                      updateLine({ cartToken, variantId: line.variant.id, quantity });
                    }
                  }}
                />
              </td>
              <td>
                <Money value={line.lineTotal} />
              </td>
              <td>
                <button type="button" className="secondary" onClick={() => removeLine({ cartToken, variantId: line.variant.id })}>
                  Remove <span className="visually-hidden">{line.product.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Subtotal ({cart.itemCount} items): <strong><Money value={cart.subtotal} /></strong>
      </p>
      {session ? (
        <Link href="/checkout">Go to checkout</Link>
      ) : (
        <p>
          <Link href="/signin?next=/checkout">Sign in to check out</Link> or{" "}
          <Link href="/checkout">Check out as a guest</Link>
        </p>
      )}
    </>
  );
}
