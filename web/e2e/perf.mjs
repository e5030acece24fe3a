// Prints what a browser pays for each page of the storefront and the admin's orders list,
// measured in Chromium against a running shop (best the release build: `cargo run --release`):
// JavaScript on the storefront's first load (gzipped, as sent), the product page's largest
// contentful paint, GraphQL requests per page, and that the admin's orders list loads one page
// of 25 when the shop holds 1,000 orders (made here through checkout when it holds fewer).
//   SHOP_URL=http://127.0.0.1:4000 node e2e/perf.mjs
import { api, launch, login, newContext } from "./browser.mjs";

const ADMIN = ["admin@example.com", "orchid-lantern-47"];
const ROUNDS = 5;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Loads `path` in a fresh profile; GraphQL requests and script bytes counted until idle. */
async function load(browser, path, { session } = {}) {
  const context = await newContext(browser);
  if (session) {
    await context.addInitScript(([key, value]) => localStorage.setItem(key, value), session);
  }
  const page = await context.newPage();
  let graphql = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/graphql") graphql += 1;
  });
  await page.goto(path, { waitUntil: "networkidle" });
  const metrics = await page.evaluate(
    () =>
      new Promise((resolve) => {
        let lcp = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) lcp = entry.startTime;
        }).observe({ type: "largest-contentful-paint", buffered: true });
        setTimeout(() => {
          const scripts = performance
            .getEntriesByType("resource")
            .filter((r) => r.name.endsWith(".js"))
            .reduce((sum, r) => sum + r.encodedBodySize, 0);
          resolve({ lcp, scripts });
        }, 100);
      }),
  );
  await context.close();
  return { graphql, ...metrics };
}

async function sessionFor(email, password) {
  const data = await api(
    "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresIn user { id name email } } }",
    { input: { email, password } },
  );
  const l = data.login;
  return JSON.stringify({ accessToken: l.accessToken, refreshToken: l.refreshToken, expiresAt: Date.now() + l.expiresIn * 1000, user: l.user });
}

async function countOrders(token) {
  let count = 0;
  let after = null;
  for (;;) {
    const data = await api(
      "query($after: String) { orders(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
      { after },
      token,
    );
    count += data.orders.edges.length;
    if (!data.orders.pageInfo.hasNextPage) return count;
    after = data.orders.pageInfo.endCursor;
  }
}

/** Orders through the real checkout, one after another, until the shop holds `target`. */
async function fillOrders(admin, target) {
  const have = await countOrders(admin);
  if (have >= target) return have;
  // The demo customer buys them (sign-ups from one address are rate-limited).
  const email = "customer@example.com";
  const token = await login(email, "meadow-copper-82");
  const products = (
    await api("{ products(first: 100) { edges { node { id availability { availableQuantity } } } } }")
  ).products.edges
    .map((e) => e.node)
    .filter((p) => p.availability.availableQuantity > 20);
  for (let n = 0; n < target - have; n += 1) {
    const cart = await api(
      "mutation($p: ID!) { addCartLine(input: { productId: $p, quantity: 1 }) { cart { id } } }",
      { p: products[n % products.length].id },
      token,
    );
    await api(
      "mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
      {
        input: {
          cartId: cart.addCartLine.cart.id,
          paymentToken: "tok_visa",
          idempotencyKey: `perf-${Date.now()}-${n}`,
          shippingAddress: { fullName: "Perf Buyer", line1: "1 Main St", city: "London", postalCode: "N1 9GU", countryCode: "GB" },
        },
      },
      token,
    );
  }
  return countOrders(admin);
}

const browser = await launch();
try {
  const { products } = await api("{ products(first: 1) { edges { node { slug } } } }");
  const { categories } = await api("{ categories { slug } }");
  const slug = products.edges[0].node.slug;
  const customer = await sessionFor("customer@example.com", "meadow-copper-82");
  const customerToken = JSON.parse(customer).accessToken;
  const orders = await api("{ me { orders(first: 1) { edges { node { id } } } } }", {}, customerToken);
  const orderId = orders.me.orders.edges[0]?.node.id;

  const first = await load(browser, "/");
  console.log(`storefront JavaScript on first load: ${(first.scripts / 1024).toFixed(1)} KB gzipped (limit 150 KB)`);

  const lcps = [];
  for (let i = 0; i < ROUNDS; i += 1) lcps.push((await load(browser, `/p/${slug}`)).lcp);
  console.log(`product page largest contentful paint: median ${median(lcps).toFixed(0)} ms of ${ROUNDS} cold loads (${lcps.map((v) => v.toFixed(0)).join(", ")}; limit 1000 ms)`);

  const pages = [
    ["home", "/"],
    ["category", `/c/${categories[0].slug}`],
    ["search", "/search?q=lamp"],
    ["product", `/p/${slug}`],
    ["cart (signed in)", "/cart", customer],
    ["checkout (signed in)", "/checkout", customer],
    ["account", "/account", customer],
    ["orders", "/account/orders", customer],
    ...(orderId ? [["order", `/account/orders/${orderId}`, customer]] : []),
  ];
  console.log("GraphQL requests per page load:");
  for (const [name, path, session] of pages) {
    const result = await load(browser, path, session ? { session: ["shop.session", session] } : {});
    console.log(`  ${name.padEnd(22)} ${result.graphql}`);
  }

  const admin = await login(...ADMIN);
  const held = await fillOrders(admin, 1000);
  const adminSession = await sessionFor(...ADMIN);
  const context = await newContext(browser);
  await context.addInitScript((value) => localStorage.setItem("shop.admin.session", value), adminSession);
  const page = await context.newPage();
  const sizes = [];
  page.on("response", async (response) => {
    if (new URL(response.url()).pathname === "/graphql") sizes.push((await response.body()).length);
  });
  await page.goto("/admin/orders", { waitUntil: "networkidle" });
  const rows = await page.locator("tbody tr").count();
  const next = await page.getByRole("button", { name: "Next page" }).isEnabled();
  console.log(
    `admin orders list: ${rows} rows shown of ${held} orders, next page ${next ? "available" : "missing"}, ` +
      `${sizes.length} GraphQL request(s) of ${sizes.map((s) => `${(s / 1024).toFixed(1)} KB`).join(", ")}`,
  );
  await context.close();
} finally {
  await browser.close();
}
