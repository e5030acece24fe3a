import { createRoot } from "react-dom/client";
import "../shared/styles.css";
import { ShopProvider } from "../shared/provider";
import { App } from "./App";

/** Root fields each mutation makes stale (see `createClient`). */
const INVALIDATIONS = {
  addCartLine: ["cart", "guestCart"],
  updateCartLine: ["cart", "guestCart"],
  removeCartLine: ["cart", "guestCart"],
  mergeGuestCart: ["cart", "guestCart"],
  checkout: ["cart", "me"],
  applyPromotionCode: ["checkoutPreview"],
  removePromotionCode: ["checkoutPreview"],
  addAddress: ["me"],
  writeReview: ["order"],
};

createRoot(document.getElementById("root")!).render(
  <ShopProvider storageKey="shop.session" invalidations={INVALIDATIONS}>
    <App />
  </ShopProvider>,
);
