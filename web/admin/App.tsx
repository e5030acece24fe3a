import type { ComponentType } from "react";
import { Link, Route, Switch } from "wouter";
import { useSession } from "../shared/provider";
import { SignInForm } from "../shared/SignInForm";
import { TwoFactor } from "../shared/TwoFactor";
import { ApiClientsPage, CustomersPage, NotificationsPage } from "./pages/Accounts";
import { AuditLogPage } from "./pages/AuditLog";
import { CollectionsPage } from "./pages/Collections";
import { HomePage } from "./pages/Home";
import { ImportPage } from "./pages/Import";
import { OrderPage, OrdersPage, ShipmentsPage } from "./pages/Orders";
import { ProductPage, ProductsPage } from "./pages/Products";
import { PromotionsPage } from "./pages/Promotions";
import { ReviewsPage } from "./pages/Reviews";
import { StaffPage } from "./pages/Staff";
import { TaxesPage } from "./pages/Taxes";
import { WarehousesPage } from "./pages/Warehouses";

/** A screen of the dashboard and the staff permissions its operations need. */
interface Screen {
  path: string;
  component: ComponentType;
  needs: string[];
  /** Its link in the sidebar; none for pages reached from another. */
  label?: string;
}

const SCREENS: Screen[] = [
  { path: "/products", label: "Products", component: ProductsPage, needs: ["catalog:write"] },
  { path: "/collections", label: "Collections", component: CollectionsPage, needs: ["catalog:write"] },
  { path: "/import", label: "Import", component: ImportPage, needs: ["catalog:write"] },
  { path: "/products/:id", component: ProductPage, needs: ["catalog:write", "inventory:read"] },
  { path: "/warehouses", label: "Warehouses", component: WarehousesPage, needs: ["inventory:read"] },
  { path: "/orders", label: "Orders", component: OrdersPage, needs: ["orders:read"] },
  { path: "/orders/:id", component: OrderPage, needs: ["orders:read"] },
  { path: "/shipments", label: "Shipments", component: ShipmentsPage, needs: ["orders:read"] },
  { path: "/promotions", label: "Promotions", component: PromotionsPage, needs: ["promotions:write"] },
  { path: "/taxes", label: "Taxes", component: TaxesPage, needs: ["settings:write"] },
  { path: "/reviews", label: "Reviews", component: ReviewsPage, needs: ["reviews:moderate"] },
  { path: "/customers", label: "Customers", component: CustomersPage, needs: ["customers:read"] },
  { path: "/staff", label: "Staff", component: StaffPage, needs: ["staff:manage"] },
  { path: "/audit-log", label: "Audit log", component: AuditLogPage, needs: ["staff:manage"] },
  { path: "/api-clients", label: "API clients", component: ApiClientsPage, needs: ["api-clients:manage"] },
  { path: "/notifications", label: "Notifications", component: NotificationsPage, needs: ["settings:write"] },
];

/** The home page's summary reads orders and stock. */
const HOME_NEEDS = ["orders:read", "inventory:read"];

export function App() {
  const { session, store, expired } = useSession();
  if (!session) return <SignIn expired={expired} />;
  if (!store.roles().includes("staff")) {
    return (
      <main>
        <h1>Shop admin</h1>
        <p role="alert">
          {session.user.email} may not use the dashboard: it needs a staff account.
        </p>
        <button type="button" onClick={() => store.signOut()}>
          Sign out
        </button>
      </main>
    );
  }
  const held = store.permissions();
  const allowed = (needs: string[]) => needs.every((permission) => held.includes(permission));
  // A staff role's permissions wait for a second factor where the shop requires one.
  const twoFactor = <TwoFactor onEnabled={() => store.signOut()} />;
  if (held.length === 0) {
    return (
      <main>
        <h1>Shop admin</h1>
        <p role="alert">Your staff roles take effect once two-factor authentication is on.</p>
        {twoFactor}
        <button type="button" className="secondary" onClick={() => store.signOut()}>
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
          {SCREENS.filter((screen) => screen.label && allowed(screen.needs)).map((screen) => (
            <Link key={screen.path} href={screen.path}>
              {screen.label}
            </Link>
          ))}
          <Link href="/two-factor">Two-factor authentication</Link>
        </nav>
        <main id="main" style={{ margin: 0, padding: 0 }}>
          <Switch>
            <Route path="/">{allowed(HOME_NEEDS) ? <HomePage /> : <Welcome />}</Route>
            <Route path="/two-factor">{twoFactor}</Route>
            {SCREENS.map((screen) => (
              <Route key={screen.path} path={screen.path}>
                {allowed(screen.needs) ? <screen.component /> : <NotAllowed needs={screen.needs} />}
              </Route>
            ))}
            <Route>
              <h1>Page not found</h1>
            </Route>
          </Switch>
        </main>
      </div>
    </>
  );
}

function Welcome() {
  return (
    <>
      <h1>Shop admin</h1>
      <p>Choose a screen from the menu: it lists the screens your staff roles give you.</p>
    </>
  );
}

function NotAllowed({ needs }: { needs: string[] }) {
  return (
    <>
      <h1>Not available</h1>
      <p role="alert">
        This screen needs the permissions {needs.join(", ")}. Ask a staff manager for a role that grants them.
      </p>
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
