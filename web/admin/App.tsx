import { Link, Route, Switch } from "wouter";
import { useSession } from "../shared/provider";
import { SignInForm } from "../shared/SignInForm";
import { ApiClientsPage, CustomersPage, NotificationsPage } from "./pages/Accounts";
import { CollectionsPage } from "./pages/Collections";
import { HomePage } from "./pages/Home";
import { ImportPage } from "./pages/Import";
import { OrderPage, OrdersPage, ShipmentsPage } from "./pages/Orders";
import { ProductPage, ProductsPage } from "./pages/Products";
import { PromotionsPage } from "./pages/Promotions";
import { ReviewsPage } from "./pages/Reviews";
import { TaxesPage } from "./pages/Taxes";
import { WarehousesPage } from "./pages/Warehouses";

export function App() {
  const { session, store, expired } = useSession();
  if (!session) return <SignIn expired={expired} />;
  if (!store.roles().includes("admin")) {
    return (
      <main>
        <h1>Shop admin</h1>
        <p role="alert">
          {session.user.email} may not use the dashboard: it needs an admin account.
        </p>
        <button type="button" onClick={() => store.signOut()}>
          Sign out
        </button>
      </main>
    );
  }
  return (
    <>
      <header className="top">
        <Link href="/" className="brand">
          Shop admin
        </Link>
        <span className="muted">{session.user.email}</span>
        <button type="button" className="secondary" onClick={() => store.signOut()}>
          Sign out
        </button>
      </header>
      <div className="layout" style={{ padding: "1rem" }}>
        <nav aria-label="Dashboard" className="sidebar">
          <Link href="/">Home</Link>
          <Link href="/products">Products</Link>
          <Link href="/collections">Collections</Link>
          <Link href="/import">Import</Link>
          <Link href="/warehouses">Warehouses</Link>
          <Link href="/orders">Orders</Link>
          <Link href="/shipments">Shipments</Link>
          <Link href="/promotions">Promotions</Link>
          <Link href="/taxes">Taxes</Link>
          <Link href="/reviews">Reviews</Link>
          <Link href="/customers">Customers</Link>
          <Link href="/api-clients">API clients</Link>
          <Link href="/notifications">Notifications</Link>
        </nav>
        <main id="main" style={{ margin: 0, padding: 0 }}>
          <Switch>
            <Route path="/" component={HomePage} />
            <Route path="/products" component={ProductsPage} />
            <Route path="/collections" component={CollectionsPage} />
            <Route path="/import" component={ImportPage} />
            <Route path="/products/:id" component={ProductPage} />
            <Route path="/warehouses" component={WarehousesPage} />
            <Route path="/orders" component={OrdersPage} />
            <Route path="/orders/:id" component={OrderPage} />
            <Route path="/shipments" component={ShipmentsPage} />
            <Route path="/promotions" component={PromotionsPage} />
            <Route path="/taxes" component={TaxesPage} />
            <Route path="/reviews" component={ReviewsPage} />
            <Route path="/customers" component={CustomersPage} />
            <Route path="/api-clients" component={ApiClientsPage} />
            <Route path="/notifications" component={NotificationsPage} />
            <Route>
              <h1>Page not found</h1>
            </Route>
          </Switch>
        </main>
      </div>
    </>
  );
}

function SignIn({ expired }: { expired: boolean }) {
  const { store } = useSession();
  return (
    <main>
      <SignInForm
        heading="Shop admin"
        notice={
          expired && (
            <p className="notice" role="status">
              Your session has ended. Please sign in again.
            </p>
          )
        }
        onSignedIn={(tokens, user) => store.signIn(tokens, user)}
      />
    </main>
  );
}
