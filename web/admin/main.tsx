import { createRoot } from "react-dom/client";
import { Router } from "wouter";
import "../shared/styles.css";
import { ShopProvider } from "../shared/provider";
import { App } from "./App";

/** Root fields each mutation makes stale (see `createClient`). */
const INVALIDATIONS = {
  createProduct: ["products"],
  updateProduct: ["products"],
  archiveProduct: ["products"],
  adjustStock: ["lowStockProducts", "product"],
  moderateReview: ["pendingReviews"],
  refundPayment: ["orders", "order"],
  fulfilOrder: ["orders", "order", "shipments"],
  cancelOrder: ["orders", "order"],
  createApiClient: ["apiClients"],
  revokeApiClient: ["apiClients"],
  retryNotification: ["notifications"],
  setNotificationTemplate: ["notificationTemplate"],
  setUserDisabled: ["users"],
  updateTaxSettings: ["taxConfiguration"],
  setTaxRate: ["taxConfiguration"],
  removeTaxRate: ["taxConfiguration"],
  createPromotion: ["promotions"],
};

createRoot(document.getElementById("root")!).render(
  <ShopProvider storageKey="shop.admin.session" invalidations={INVALIDATIONS}>
    <Router base="/admin">
      <App />
    </Router>
  </ShopProvider>,
);
