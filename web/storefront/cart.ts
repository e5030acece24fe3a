// The cart: a signed-in customer's own, or a guest cart known by its token (kept in this
// browser) that joins the customer's cart at sign-in.
import { useMutation } from "urql";
import { AddToCartDocument, CreateGuestCartDocument, MergeGuestCartDocument } from "../shared/generated/graphql";
import { useSession } from "../shared/provider";

const GUEST_CART_KEY = "shop.guestCart";

export function guestCartToken(): string | null {
  return localStorage.getItem(GUEST_CART_KEY);
}

export function useAddToCart() {
  const { session } = useSession();
  const [, createGuestCart] = useMutation(CreateGuestCartDocument);
  const [state, addLine] = useMutation(AddToCartDocument);
  const add = async (variantId: string, quantity: number) => {
    let cartToken = session ? null : guestCartToken();
    if (!session && !cartToken) {
      const created = await createGuestCart({});
      cartToken = created.data?.createGuestCart.cartToken ?? null;
      if (!cartToken) return { data: undefined, error: created.error };
      localStorage.setItem(GUEST_CART_KEY, cartToken);
    }
    return addLine({ cartToken, variantId, quantity });
  };
  return [state, add] as const;
}

/** After sign-in: the guest cart's lines join the customer's cart, and the token is dropped. */
export function useMergeGuestCart() {
  const [, merge] = useMutation(MergeGuestCartDocument);
  return async () => {
    const cartToken = guestCartToken();
    if (!cartToken) return;
    const merged = await merge({ cartToken });
    if (merged.data?.mergeGuestCart.cart || merged.data?.mergeGuestCart.userErrors.length) {
      localStorage.removeItem(GUEST_CART_KEY);
    }
  };
}
