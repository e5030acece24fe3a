import { useState, type FormEvent } from "react";
import { Link, Route, Switch, useLocation } from "wouter";
import { useSession } from "../shared/provider";
import { AccountPage, NotificationsPage, OrderPage, OrdersPage } from "./pages/Account";
import { CartPage } from "./pages/Cart";
import { CategoryPage } from "./pages/Category";
import { CheckoutPage } from "./pages/Checkout";
import { CollectionPage } from "./pages/Collection";
import { HomePage } from "./pages/Home";
import { OrderStatusPage } from "./pages/OrderStatus";
import { ForgotPasswordPage, ResetPasswordPage } from "./pages/Password";
import { VerifyEmailPage } from "./pages/Email";
import { ProductPage } from "./pages/Product";
import { SearchPage } from "./pages/Search";
import { SignInPage, SignUpPage } from "./pages/SignIn";

export function App() {
  const { expired } = useSession();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Header />
      {expired && (
        <p className="notice" role="status">
          Your session has ended. Please <Link href="/signin">sign in</Link> again.
        </p>
      )}
      <main id="main">
        <Switch>
          <Route path="/" component={HomePage} />
          <Route path="/c/:slug" component={CategoryPage} />
          <Route path="/collections/:slug" component={CollectionPage} />
          <Route path="/search" component={SearchPage} />
          <Route path="/p/:slug" component={ProductPage} />
          <Route path="/cart" component={CartPage} />
          <Route path="/checkout" component={CheckoutPage} />
          <Route path="/order-status" component={OrderStatusPage} />
          <Route path="/signin" component={SignInPage} />
          <Route path="/signup" component={SignUpPage} />
          <Route path="/forgot-password" component={ForgotPasswordPage} />
          <Route path="/reset-password" component={ResetPasswordPage} />
          <Route path="/verify-email" component={VerifyEmailPage} />
          <Route path="/account" component={AccountPage} />
          <Route path="/account/orders" component={OrdersPage} />
          <Route path="/account/orders/:id" component={OrderPage} />
          <Route path="/account/notifications" component={NotificationsPage} />
          <Route>
            <h1>Page not found</h1>
            <Link href="/">Back to the shop</Link>
          </Route>
        </Switch>
      </main>
    </>
  );
}

function Header() {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const [query, setQuery] = useState("");
  const search = (event: FormEvent) => {
    event.preventDefault();
    if (query.trim()) navigate(`/search?q=${encodeURIComponent(query.trim())}`);
  };
  return (
    <header className="top">
      <Link href="/" className="brand">
        Shop
      </Link>
      <form role="search" onSubmit={search}>
        <label htmlFor="search" className="visually-hidden">
          Search products
        </label>
        <input
          id="search"
          type="search"
          placeholder="Search products"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <nav aria-label="Account">
        <Link href="/cart">Cart</Link>
        {session ? (
          <Link href="/account">{session.user.name}</Link>
        ) : (
          <>
            <Link href="/order-status">Order status</Link>
            <Link href="/signin">Sign in</Link>
          </>
        )}
      </nav>
    </header>
  );
}
