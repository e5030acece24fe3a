// The journeys of issue 22 in Chromium against a running shop (SHOP_URL): a guest finds a
// product by a misspelled search, buys it after signing up and sees it delivered, then reviews
// it; bad input (wrong password, expired session, declined card, out of stock, the network
// failing mid-checkout); an admin creates and restocks a product, uploads an image of one of its variants, refunds the order, edits a
// template, manages an API client and publishes the review; a guest buys with a promotion code
// and an email and finds the order with its number and that email; a customer confirms a payment
// with their bank (3-D Secure) and the order turns paid; a customer changes their email and
// confirms it from the emailed link; a staff member sees only the dashboard
// screens their staff roles grant. Every storefront page passes
// axe-core without serious or critical violations. `launcher/tests/browser.rs` starts the shop
// and runs this; by hand:
// `SHOP_URL=http://127.0.0.1:4000 node e2e/run.mjs` (set SHIPPING_SIMULATOR_STEP_SECS=1 on the shop).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, launch, login, newContext, totp, until } from "./browser.mjs";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const ADMIN = { email: "admin@example.com", password: "orchid-lantern-47" };
const CUSTOMER = { email: "customer@example.com", password: "meadow-copper-82" };
/** README's screenshots are rewritten with UPDATE_SCREENSHOTS=1; otherwise they go to a temp dir. */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? new URL("../screenshots/", import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), "shop-screenshots-"));
mkdirSync(SCREENSHOTS, { recursive: true });
const RUN = Date.now().toString(36);
const BLACK_LAMP = new URL("../../subgraphs/catalog/tests/fixtures/navy.png", import.meta.url).pathname;

const ADDRESS = [
  ["Full name", "Ada Lovelace"],
  ["Street and number", "12 Analytical Way"],
  ["City", "Springfield"],
  ["State, province or region (where the country has them)", "IL"],
  ["Postal code", "62704"],
  ["Country code (e.g. US, GB)", "US"],
];

async function accessible(page, name) {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(() =>
    // `axe` is the global the script tag above defined.
    axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }),
  );
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility of ${name}`,
  );
  checked.push(name);
}
const checked = [];

async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

async function signUp(page, email) {
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("compiler-cobol-1959");
  await page.getByRole("button", { name: "Create account" }).click();
}

async function signIn(page, { email, password }) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function fillAddress(page) {
  for (const [label, value] of ADDRESS) await page.getByLabel(label, { exact: true }).fill(value);
}

async function addToCart(page, product, quantity = 1) {
  await page.goto(`/p/${product.slug}`);
  await page.getByRole("heading", { level: 1, name: product.name }).waitFor();
  if (quantity !== 1) await page.getByLabel("Quantity").fill(String(quantity));
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart").waitFor();
}

/** At checkout with a new address: waits for the delivery options, picks a card, places the order. */
async function placeOrder(page, card) {
  await page.getByRole("heading", { name: "Checkout", level: 1 }).waitFor();
  if (await page.getByLabel("Full name").isVisible()) await fillAddress(page);
  await page.getByRole("radio", { name: /days/ }).first().waitFor();
  await page.getByLabel("Card").selectOption({ label: card });
  await page.getByTestId("total").waitFor();
  await page.getByRole("button", { name: "Place order" }).click();
}

async function ordersOf(token) {
  const data = await api("{ me { orders(first: 50) { edges { node { id number status } } } } }", {}, token);
  return data.me.orders.edges.map((e) => e.node);
}

/** In-stock products without options (one variant each), most stock first. */
async function stockedProducts() {
  const data = await api(
    "{ products(first: 100) { edges { node { id name slug options { name } availability { availableQuantity } } } } }",
  );
  return data.products.edges
    .map((e) => e.node)
    .filter((p) => p.options.length === 0 && p.availability.availableQuantity >= 5)
    .sort((a, b) => b.availability.availableQuantity - a.availability.availableQuantity);
}

async function guestBuysAndReviews(browser, product) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto("/");
  await page.getByRole("heading", { name: "Welcome to the shop" }).waitFor();
  // The demo's collections, each with products.
  for (const title of ["New arrivals", "Under $25", "Staff picks"]) {
    await page.getByRole("heading", { level: 2, name: title }).waitFor();
  }
  await accessible(page, "home");
  await shot(page, "storefront-home");

  // A misspelled search: the brand and the product's longest word with a letter left out.
  const words = product.name.split(" ");
  const longest = words.slice(1).reduce((a, b) => (b.length > a.length ? b : a));
  const misspelled = longest.slice(0, 2) + longest.slice(3);
  const query = `${words[0]} ${misspelled}`;
  await page.getByLabel("Search products").fill(query);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("heading", { name: new RegExp(`results for “${query}”`) }).waitFor();
  await page.getByRole("link", { name: product.name, exact: true }).waitFor();
  await accessible(page, "search");
  await shot(page, "storefront-search");
  await page.getByRole("link", { name: product.name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: product.name }).waitFor();
  await accessible(page, "product");
  await shot(page, "storefront-product");
  // Search engines and shared links: the page's title, and the sitemap naming its address.
  await until("the product's title", async () => (await page.title()) === `${product.name} | Shop`);
  const sitemap = await (await page.request.get("/sitemap.xml")).text();
  assert.ok(sitemap.includes(`/p/${product.slug}</loc>`), "the sitemap lists the product");

  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByRole("link", { name: /View cart \(2\)/ }).click();
  await page.getByRole("link", { name: product.name }).waitFor();
  await accessible(page, "cart (guest)");

  await page.getByRole("link", { name: "Sign in to check out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await accessible(page, "sign in");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByRole("heading", { name: "Create an account" }).waitFor();
  await accessible(page, "sign up");
  const email = `guest-${RUN}@example.com`;
  await signUp(page, email);

  // The guest cart joined the new account: checkout shows its two units.
  await page.getByRole("heading", { name: "Checkout", level: 1 }).waitFor();
  await page.getByText(`2 × ${product.name}`).waitFor();
  await fillAddress(page);
  await page.getByRole("radio", { name: /days/ }).first().waitFor();
  await page.getByTestId("total").waitFor();
  await accessible(page, "checkout");
  await shot(page, "storefront-checkout");
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByText(/Thank you! Your order .* is placed/).waitFor();
  const number = (await page.getByRole("heading", { level: 1 }).textContent()).replace("Order ", "");

  // The simulated carrier moves the parcel; the page shows each step when asked.
  await until("the order to be delivered", async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    return (await page.getByTestId("order-status").textContent()) === "Delivered";
  });
  await page.getByText("Delivered", { exact: false }).first().waitFor();
  await accessible(page, "order");
  await shot(page, "storefront-order");

  // A review with a link waits for a moderator.
  await page.getByRole("button", { name: `Review ${product.name}` }).click();
  await page.getByLabel("Rating").selectOption("4");
  await page.getByLabel("Title").fill(`Sturdy and handsome ${RUN}`);
  await page.getByLabel("Your review").fill("Exactly as pictured; more photos at https://example.com/photos.");
  await page.getByRole("button", { name: "Publish review" }).click();
  await page.getByText("it appears once a moderator has read it").waitFor();

  for (const [path, heading] of [
    ["/account", "Your account"],
    ["/account/orders", "Your orders"],
    ["/account/notifications", "Emails"],
  ]) {
    await page.goto(path);
    await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    await page.locator(".loading").waitFor({ state: "detached" });
    await accessible(page, path);
  }
  await page.getByRole("link", { name: "Profile and addresses" }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  await context.close();
  return { number, email, title: `Sturdy and handsome ${RUN}` };
}

const TEE = "everyday-organic-cotton-tee";

/** Units of each of the demo T-shirt's variants that can be sold now, by title ("M / Sand"). */
async function teeStock() {
  const data = await api(
    "query($slug: String!) { product(slug: $slug) { variants { optionValues { value } availability { availableQuantity } } } }",
    { slug: TEE },
  );
  return Object.fromEntries(
    data.product.variants.map((v) => [v.optionValues.map((o) => o.value).join(" / "), v.availability.availableQuantity]),
  );
}

/**
 * The demo T-shirt in Size x Colour: a sold-out combination says so, the customer picks
 * "M / Sand" (its own price), buys it, and the cart, the order and that variant's stock (and only
 * that one's) show it.
 */
async function customerPicksAVariant(browser) {
  // An admin sells "L / Sand" out (its stock damaged away).
  const admin = await login(ADMIN.email, ADMIN.password);
  const levels = await api(
    `query($slug: String!) { product(slug: $slug) { variants { id optionValues { value }
      availability { warehouses { warehouseId available } } } } }`,
    { slug: TEE },
    admin,
  );
  const largeSand = levels.product.variants.find((v) => v.optionValues.map((o) => o.value).join(" / ") === "L / Sand");
  for (const level of largeSand.availability.warehouses.filter((w) => w.available > 0)) {
    const done = await api(
      "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { message } } }",
      {
        input: {
          variantId: largeSand.id,
          warehouseId: level.warehouseId,
          kind: "DAMAGE",
          quantity: level.available,
          reason: "water damage",
          idempotencyKey: `damage-${RUN}-${level.warehouseId}`,
        },
      },
      admin,
    );
    assert.deepEqual(done.adjustStock.userErrors, []);
  }
  const before = await teeStock();
  assert.equal(before["L / Sand"], 0);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto("/signin");
  await signIn(page, CUSTOMER);
  await page.getByRole("link", { name: "Sign in", exact: true }).waitFor({ state: "detached" });
  // Search counts the colours of the variants on sale; ticking one narrows the results.
  await page.goto("/search?q=organic%20cotton%20tee");
  await page.getByRole("group", { name: "Colour" }).getByLabel("Sand (1)").check();
  await page.getByRole("heading", { name: /^1 results for/ }).waitFor();
  await accessible(page, "search with option facets");
  await page.getByRole("link", { name: "Everyday Organic Cotton Tee" }).click();
  await page.getByRole("heading", { level: 1, name: "Everyday Organic Cotton Tee" }).waitFor();
  await page.getByRole("group", { name: "Size" }).waitFor();
  await page.getByRole("group", { name: "Colour" }).waitFor();
  // With size L, the sand colour is sold out.
  await page.getByRole("radio", { name: "L", exact: true }).check();
  await page.getByText("Sand (sold out)").waitFor();
  await accessible(page, "product with variants");
  await shot(page, "storefront-variants");

  await page.getByRole("radio", { name: "M", exact: true }).check();
  await page.getByRole("radio", { name: /^Sand/ }).check();
  const sku = await page.getByText(/^SKU /).textContent();
  assert.match(sku, /-M-SAND$/);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByRole("link", { name: /View cart/ }).click();
  await page.getByRole("link", { name: "Everyday Organic Cotton Tee" }).waitFor();
  await page.getByText("M / Sand", { exact: true }).waitFor();
  await accessible(page, "cart with a variant");
  await page.getByRole("link", { name: "Go to checkout" }).click();
  await page.getByText("1 × Everyday Organic Cotton Tee (M / Sand)").waitFor();
  await placeOrder(page, "Visa ending 4242");
  await page.getByText(/Thank you! Your order .* is placed/).waitFor();
  await page.getByText("M / Sand").first().waitFor();

  const after = await teeStock();
  const moved = Object.keys(before).filter((title) => before[title] !== after[title]);
  assert.deepEqual(moved, ["M / Sand"], `only the bought variant's stock moved: ${JSON.stringify({ before, after })}`);
  assert.equal(after["M / Sand"], before["M / Sand"] - 1);
  await context.close();
}

/** A product renamed by an admin: a link with its old slug shows it at its new address. */
async function oldSlugFindsTheProduct(browser, product) {
  const admin = await login(ADMIN.email, ADMIN.password);
  const renamed = `${product.slug}-${RUN}`;
  const data = await api(
    "mutation($id: ID!, $slug: String!) { updateProduct(input: { id: $id, slug: $slug }) { userErrors { message } } }",
    { id: product.id, slug: renamed },
    admin,
  );
  assert.deepEqual(data.updateProduct.userErrors, []);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`/p/${product.slug}`);
  await page.waitForURL(`**/p/${renamed}`);
  await page.getByRole("heading", { level: 1, name: product.name }).waitFor();
  await context.close();
}

async function categoryPage(browser) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const { categories } = await api("{ categories { name slug } }");
  await page.goto(`/c/${categories[0].slug}`);
  await page.getByRole("heading", { level: 1, name: categories[0].name }).waitFor();
  const total = async () => Number((await page.getByText(/^\d+ products$/).textContent()).split(" ")[0]);
  const all = await total();
  await page.getByLabel("Sort by").selectOption("PRICE_ASC");
  await page.getByLabel("Max price").fill("50");
  await page.getByRole("button", { name: "Apply prices" }).click();
  await until("the price filter", async () => (await page.url()).includes("max=50"));
  await page.getByText(/^\d+ products$/).waitFor();
  const cheap = await total();
  assert.ok(cheap <= all);
  // The categories' attributes are facets: ticking a colour narrows the list to what search
  // counts for that colour within the other filters.
  const colours = page.getByRole("group", { name: "Color", exact: true });
  const label = await colours.locator("label").first().textContent();
  const colour = /^\s*(.*?) \(\d+\)\s*$/.exec(label)[1];
  await colours.getByRole("checkbox").first().check();
  await until("the colour filter", async () => (await page.url()).includes("attr=Color"));
  const expected = await api(
    `query($filter: ProductSearchFilter) { searchProducts(query: "", filter: $filter) { totalCount } }`,
    {
      filter: {
        categorySlug: categories[0].slug,
        maxPrice: "50",
        attributeValues: [{ name: "Color", value: colour }],
      },
    },
  );
  await until("the colour's count", async () => (await total()) === expected.searchProducts.totalCount);
  assert.ok(expected.searchProducts.totalCount <= cheap, `${colour}: ${expected.searchProducts.totalCount} of ${cheap}`);
  await accessible(page, "category");
  await context.close();
}

async function badInput(browser, products) {
  const context = await newContext(browser);
  const page = await context.newPage();

  // A wrong password: a clear message, still signed out.
  await page.goto("/signin");
  await signIn(page, { email: CUSTOMER.email, password: "not-the-password" });
  await page.getByRole("alert").waitFor();
  const message = await page.getByRole("alert").textContent();
  assert.match(message, /password|credentials|email/i);

  // A new customer's first order is declined: nothing charged, the next card works.
  const email = `buyer-${RUN}@example.com`;
  await page.goto("/signup");
  await signUp(page, email);
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  const token = await login(email, "compiler-cobol-1959");
  await addToCart(page, products[1]);
  await page.goto("/checkout");
  await placeOrder(page, "Test card that is declined");
  await page.getByText("Your payment did not go through and nothing was charged").waitFor();
  assert.deepEqual((await ordersOf(token)).map((o) => o.status), ["FAILED"]);

  // The network fails after the shop took the order: pressing again returns that order.
  let dropped = 0;
  await page.route("**/graphql", async (route) => {
    if (dropped === 0 && route.request().postData()?.includes('"operationName":"Checkout"')) {
      dropped += 1;
      await route.fetch();
      await route.abort("failed");
    } else {
      await route.continue();
    }
  });
  await page.getByLabel("Card").selectOption({ label: "Visa ending 4242" });
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByText("Your order may not have been placed").waitFor();
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByText(/Thank you! Your order .* is placed/).waitFor();
  assert.equal(dropped, 1);
  await page.unroute("**/graphql");
  const orders = await ordersOf(token);
  assert.equal(orders.length, 2, JSON.stringify(orders));
  assert.equal(orders.filter((o) => o.status !== "FAILED").length, 1);

  // Sold out between the cart and the order: the customer is told, nothing is charged.
  const scarce = products[2];
  await addToCart(page, scarce);
  const admin = await login(ADMIN.email, ADMIN.password);
  const stock = await api(
    "query($id: ID!) { product(id: $id) { availability { warehouses { warehouseId available } } } }",
    { id: scarce.id },
    admin,
  );
  for (const [i, w] of stock.product.availability.warehouses.entries()) {
    if (w.available <= 0) continue;
    await api(
      "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { message } } }",
      { input: { productId: scarce.id, warehouseId: w.warehouseId, kind: "DAMAGE", quantity: w.available,
        reason: "e2e: sold out", idempotencyKey: `e2e-soldout-${RUN}-${i}` } },
      admin,
    );
  }
  await page.goto("/checkout");
  await placeOrder(page, "Visa ending 4242");
  await page.getByRole("alert").first().waitFor();
  assert.match(await page.getByRole("alert").first().textContent(), /stock|available/i);
  assert.equal((await ordersOf(token)).filter((o) => !["FAILED", "CANCELLED"].includes(o.status)).length, 1);

  // An access token past its time is refreshed without the customer noticing.
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("shop.session"));
    localStorage.setItem("shop.session", JSON.stringify({ ...session, expiresAt: 0 }));
  });
  const before = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.session")).refreshToken);
  await page.goto("/account");
  await page.getByText(`Grace Hopper · ${email}`).waitFor();
  const after = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.session")).refreshToken);
  assert.notEqual(after, before, "the session was refreshed");

  // A session that can no longer be refreshed ends cleanly: the customer is asked to sign in.
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("shop.session"));
    localStorage.setItem(
      "shop.session",
      JSON.stringify({ ...session, accessToken: "forged.token.value", refreshToken: "rt_revoked", expiresAt: Date.now() + 600000 }),
    );
  });
  await page.goto("/account");
  await page.getByText("Your session has ended").first().waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("shop.session")), null);
  await context.close();
}

async function adminJourney(browser, bought) {
  const context = await newContext(browser);
  const page = await context.newPage();

  // A customer is told the dashboard is not theirs.
  await page.goto("/admin");
  await signIn(page, CUSTOMER);
  await page.getByText("may not use the dashboard").waitFor();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();

  await signIn(page, ADMIN);
  await page.getByRole("heading", { name: "Latest orders" }).waitFor();
  await page.locator(".loading").waitFor({ state: "detached" });
  // The guest's order is among the period's sales.
  const paid = Number((await page.getByText(/^\d+ paid orders since/).textContent()).split(" ")[0]);
  assert.ok(paid >= 1, `${paid} paid orders`);
  assert.match(await page.getByTestId("sales").textContent(), /\$[\d,]+\.\d\d/);
  await shot(page, "admin-home");

  // A new product, restocked.
  await page.getByRole("link", { name: "Products" }).click();
  await page.getByRole("button", { name: "New product" }).click();
  const name = `Brass Desk Lamp ${RUN}`;
  await page.getByLabel("SKU").fill(`LAMP-${RUN}`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Description").fill("A lamp for long evenings.");
  await page.getByLabel("Category").locator("option").nth(1).waitFor({ state: "attached" });
  await page.getByLabel("Category").selectOption({ index: 1 });
  await page.getByLabel("Price (USD)").fill("89.00");
  await page.getByRole("button", { name: "Create product" }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
  await page.getByLabel("Kind").selectOption("RESTOCK");
  await page.getByLabel("Quantity").fill("20");
  await page.getByLabel("Reason").fill("delivery 4711");
  await page.getByRole("button", { name: "Adjust stock" }).click();
  await page.getByText("Now 20 on hand.").waitFor();
  await until("the new stock on the page", async () =>
    (await page.getByTestId("available").textContent()).startsWith("20 available"),
  );
  await shot(page, "admin-product");

  // The lamp comes in two shades: the options, every combination at once, stock for one of them.
  const lampSku = `LAMP-${RUN}`.toUpperCase();
  await page.getByLabel("Option 1", { exact: true }).fill("Shade");
  await page.getByLabel("Values of option 1", { exact: true }).fill("Brass, Black");
  await page.getByRole("button", { name: "Save options" }).click();
  await page.getByText("Options saved.").waitFor();
  await page.getByRole("button", { name: "Add 2 missing combinations" }).click();
  await page.getByRole("cell", { name: `${lampSku}-BLACK`, exact: true }).waitFor();
  await page.getByRole("cell", { name: `${lampSku}-BRASS`, exact: true }).waitFor();
  // The same shade again is refused, and says why.
  // (A label around a select also reads the chosen option, so these are found by name.)
  await page.locator('select[name="value-Shade"]').selectOption("Black");
  await page.getByLabel("Variant SKU").fill(`LAMP-${RUN}-BLACK-2`);
  await page.getByRole("button", { name: "Add variant" }).click();
  await page.getByText("another variant of this product has the options Black").waitFor();
  await page.locator('select[name="variantId"]').selectOption({ label: `Black (${lampSku}-BLACK)` });
  await page.getByLabel("Kind").selectOption("RESTOCK");
  await page.getByLabel("Quantity").fill("4");
  await page.getByLabel("Reason").fill("delivery 4712");
  await page.getByRole("button", { name: "Adjust stock" }).click();
  await page.getByText("Now 4 on hand.").waitFor();
  await until("the black lamp's stock in the variants table", async () => {
    await page.reload();
    return (await page.getByTestId(`available-${lampSku}-BLACK`).textContent()) === "4";
  });
  await shot(page, "admin-variants");

  // An image of the black lamp: a file that is not an image is refused and says why; the real
  // one shows in the list and, on the storefront, only while Black is picked.
  const chooseImage = (name, mimeType, buffer) => page.getByLabel("Image file").setInputFiles({ name, mimeType, buffer });
  await chooseImage("lamp.png", "image/png", Buffer.from("this is a text file, not a picture"));
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByText("the file is not a PNG, JPEG, WebP or GIF image").waitFor();
  await chooseImage("lamp-black.png", "image/png", readFileSync(BLACK_LAMP));
  await page.getByLabel("Alt text", { exact: true }).fill("The lamp in black");
  await page.locator('form:has(input[name="file"]) select[name="variant"]').selectOption({ label: "Black" });
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByText("Image uploaded.").waitFor();
  await page.getByText("64 × 48 · Black").waitFor();
  await shot(page, "admin-images");
  // An image linked by its address (not fetched: its size is given) joins the list, and goes.
  await page.getByLabel("Image address").fill("https://cdn.example.com/lamp-side.jpg");
  await page.getByLabel("Alt text of the linked image").fill("The lamp from the side");
  await page.getByLabel("Width in pixels").fill("800");
  await page.getByLabel("Height in pixels").fill("600");
  await page.getByRole("button", { name: "Link image" }).click();
  await page.getByText("Image linked.").waitFor();
  await page.getByText("800 × 600 · Whole product").waitFor();
  await page.getByRole("button", { name: "Remove image 2" }).click();
  await page.getByText("800 × 600 · Whole product").waitFor({ state: "detached" });
  const storefront = await context.newPage();
  await storefront.goto(`/p/${(await api("query($sku: String!) { product(sku: $sku) { slug } }", { sku: lampSku })).product.slug}`);
  await storefront.getByRole("radio", { name: /^Black/ }).check();
  const image = storefront.getByRole("img", { name: "The lamp in black" });
  await image.waitFor();
  assert.equal(await image.evaluate((img) => img.complete && img.naturalWidth), 64, "the uploaded image loads");
  await storefront.getByRole("radio", { name: /^Brass/ }).check();
  await image.waitFor({ state: "detached" });
  await storefront.close();

  // The lamp's category gets a wattage in watts; a word is refused, a number kept.
  await page.getByLabel(/^Attribute \d+$/).last().fill("Wattage");
  await page.locator('select[name^="kind-"]').last().selectOption("NUMBER");
  await page.locator('input[name^="unit-"]').last().fill("W");
  await page.getByRole("button", { name: "Save category attributes" }).click();
  await page.getByText("Category attributes saved.").waitFor();
  await page.getByLabel("Wattage (W)").fill("forty");
  await page.getByRole("button", { name: "Save attributes" }).click();
  await page.getByText('attribute "Wattage": "forty" is not a number').waitFor();
  await page.getByLabel("Wattage (W)").fill("40");
  await page.getByRole("button", { name: "Save attributes" }).click();
  await page.getByText("Attributes saved.", { exact: true }).waitFor();
  const lamp = await api("query($sku: String!) { product(sku: $sku) { attributes { name value } } }", { sku: lampSku });
  assert.ok(
    lamp.product.attributes.some((a) => a.name === "Wattage" && a.value === "40"),
    JSON.stringify(lamp.product.attributes),
  );
  await shot(page, "admin-attributes");

  // A hand-picked collection: an unknown SKU is refused and named; the lamp first, then the
  // T-shirt; it shows on the storefront's home page in that order.
  await page.getByRole("link", { name: "Collections" }).click();
  await page.getByRole("heading", { name: "Collections", level: 1 }).waitFor();
  const collection = `Desk and wardrobe ${RUN}`;
  await page.getByLabel("Title").fill(collection);
  await page.getByLabel("Product SKUs").fill(`${lampSku}, NO-SUCH-SKU-${RUN}`);
  await page.getByRole("button", { name: "Create collection" }).click();
  await page.getByText(`no product has the SKU NO-SUCH-SKU-${RUN.toUpperCase()}`).waitFor();
  await page.getByLabel("Product SKUs").fill(`${lampSku}, TEE-000001`);
  await page.getByRole("button", { name: "Create collection" }).click();
  await page.getByText("Collection created.").waitFor();
  await page.getByRole("cell", { name: collection, exact: true }).waitFor();
  await shot(page, "admin-collections");
  const home = await context.newPage();
  await home.goto("/");
  const section = home.getByRole("region", { name: collection });
  await section.waitFor();
  const names = await section.getByRole("link").allTextContents();
  assert.ok(names[0].includes(name) && names[1].includes("Everyday Organic Cotton Tee"), JSON.stringify(names));
  await home.close();

  // A CSV import: a file with errors changes nothing and lists them; a good one makes a mug in
  // two colours; the same file again changes nothing.
  const categories = await api("{ categories { children { slug } } }");
  const category = categories.categories[0].children[0].slug;
  const header = "Handle,Title,Category,Option1 Name,Option1 Value,Variant SKU,Variant Price";
  const good = `${header}\nmug-${RUN},Enamel Mug ${RUN},${category},Colour,White,MUG-${RUN}-W,12.00\nmug-${RUN},,,,Black,MUG-${RUN}-B,12.00\n`;
  const bad = good.replace(",12.00\nmug", ",twelve\nmug").replace(`,${category},`, ",nowhere,");
  const upload = async (name, text) => {
    await page.getByLabel("CSV or JSON lines file").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
    await page.getByRole("button", { name: "Import", exact: true }).click();
  };
  await page.getByRole("link", { name: "Import", exact: true }).click();
  await page.getByRole("heading", { name: "Import products" }).waitFor();
  await upload("broken.csv", bad);
  await page.getByRole("heading", { name: /Nothing was imported: 1 error to fix/ }).waitFor();
  await page.getByRole("cell", { name: "Variant Price", exact: true }).waitFor();
  await accessible(page, "admin import errors");
  await shot(page, "admin-import-errors");
  await upload("mugs.csv", bad.replace(",twelve\nmug", ",12.00\nmug"));
  await page.getByRole("cell", { name: "Category", exact: true }).waitFor();
  await upload("mugs.csv", good);
  await page.getByText("Products created: 1, updated: 0. Variants created: 2, updated: 0, unchanged: 0.").waitFor();
  await upload("mugs.csv", good);
  await page.getByText("Products created: 0, updated: 0. Variants created: 0, updated: 0, unchanged: 2.").waitFor();
  // The export has the mug, in the import's columns, behind its download link.
  await page.getByRole("button", { name: "Export products" }).click();
  const download = page.getByRole("link", { name: "Download products.csv" });
  await download.waitFor();
  const exported = await page.request.get(await download.getAttribute("href"));
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()["content-disposition"], /^attachment/);
  assert.ok((await exported.text()).includes(`MUG-${RUN}-W`.toUpperCase()), "the export has the imported mug");
  const mug = await api("query($slug: String!) { product(slug: $slug) { variants { sku } } }", { slug: `mug-${RUN}` });
  assert.deepEqual(
    mug.product.variants.map((v) => v.sku),
    [`MUG-${RUN}-W`.toUpperCase(), `MUG-${RUN}-B`.toUpperCase()],
  );

  // The guest's order, refunded in part.
  await page.getByRole("link", { name: "Orders" }).click();
  await page.getByRole("link", { name: bought.number }).click();
  await page.getByRole("heading", { name: `Order ${bought.number}` }).waitFor();
  await page.getByLabel("Amount").fill("1.00");
  await page.getByLabel("Reason").fill("scratched box");
  await page.getByRole("button", { name: "Refund" }).click();
  await page.getByText("Refunded.").waitFor();
  await until("the refund on the payment", async () =>
    /Partially refunded/.test(await page.getByTestId("payment-status").textContent()),
  );
  await shot(page, "admin-order");

  // The order-paid email's template, loaded as it is and saved with a new subject.
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.getByLabel("Kind").selectOption("ORDER_PAID");
  const subject = page.getByLabel("Subject");
  await until("the template to load", async () => (await subject.inputValue()).length > 0);
  await subject.fill(`Your order {{ number }} is paid (${RUN})`);
  await page.getByRole("button", { name: "Save template" }).click();
  await page.getByText("Template saved.").waitFor();

  // An API client for a partner: created (its secret shown once), rotated, revoked.
  await page.getByRole("link", { name: "API clients" }).click();
  const client = `partner-feed-${RUN}`;
  await page.getByLabel("Name").fill(client);
  await page.getByRole("button", { name: "Create client" }).click();
  const secret = page.getByText("The client's secret, shown this once");
  await secret.waitFor();
  const first = await secret.locator("code").textContent();
  const row = page.getByRole("row", { name: new RegExp(client) });
  await row.getByRole("button", { name: /Rotate secret/ }).click();
  await until("a new secret", async () => (await secret.locator("code").textContent()) !== first);
  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: /Revoke/ }).click();
  await row.getByText("Revoked").waitFor();

  // The other lists answer (the guest's delivered shipment among the shipments).
  for (const [link, heading] of [["Shipments", "Shipments"], ["Customers", "Customers"], ["Warehouses", "Warehouses"]]) {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    await page.locator("tbody tr").first().waitFor();
  }
  await page.getByRole("link", { name: "Shipments", exact: true }).click();
  await page.getByRole("link", { name: bought.number }).first().waitFor();

  // The held review, published.
  await page.getByRole("link", { name: "Reviews" }).click();
  const review = page.getByRole("article", { name: `Review ${bought.title}` });
  await review.getByRole("button", { name: "Publish" }).click();
  await review.waitFor({ state: "detached" });
  await context.close();
}

/**
 * An admin sets Washington's sales tax on the Taxes page (a rate of "seven" is refused there)
 * and makes a code for 10% off on the Promotions page; a customer shipping to Seattle is told
 * an unknown code does not exist, applies the code in lower case, sees the discount and the tax
 * in the checkout's summary, leaves a note, pays that total, and the order shows the same lines
 * and total, the note, and the shipping address as the billing address.
 */
async function taxedCheckout(browser, product) {
  const admin = await (await newContext(browser)).newPage();
  await admin.goto("/admin/taxes");
  await signIn(admin, ADMIN);
  await admin.getByRole("heading", { level: 1, name: "Taxes" }).waitFor();
  const rateForm = admin.locator("form", { has: admin.getByRole("heading", { name: "Set a rate" }) });
  await rateForm.getByLabel("Country code").fill("US");
  await rateForm.getByLabel("Region").fill("WA");
  await rateForm.getByLabel("Rate (%)").fill("seven");
  await rateForm.getByLabel("Name on receipts").fill("WA sales tax");
  await rateForm.getByRole("button", { name: "Save rate" }).click();
  await rateForm.getByRole("alert").getByText(/percentage/).waitFor();
  await rateForm.getByLabel("Rate (%)").fill("6.5");
  await rateForm.getByRole("button", { name: "Save rate" }).click();
  await admin.getByRole("row", { name: /US-WA.*6\.5%.*WA sales tax/ }).waitFor();
  await accessible(admin, "admin taxes");
  await shot(admin, "admin-taxes");

  const code = `TEN${RUN}`.toUpperCase();
  await admin.getByRole("link", { name: "Promotions" }).click();
  await admin.getByRole("heading", { level: 1, name: "Promotions" }).waitFor();
  const promotionForm = admin.locator("form", { has: admin.getByRole("heading", { name: "New promotion" }) });
  await promotionForm.getByLabel(/^Name/).fill("Ten percent");
  await promotionForm.getByLabel(/^Code/).fill(code);
  await promotionForm.getByLabel(/^Percent off/).fill("10");
  await promotionForm.getByRole("button", { name: "Create promotion" }).click();
  await admin.getByRole("row", { name: new RegExp(`Ten percent.*${code}.*10% off`) }).waitFor();
  await accessible(admin, "admin promotions");
  await shot(admin, "admin-promotions");

  const page = await (await newContext(browser)).newPage();
  await page.goto("/signin");
  await signIn(page, CUSTOMER);
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  await addToCart(page, product);
  await page.goto("/checkout");
  await page.getByRole("heading", { name: "Checkout", level: 1 }).waitFor();
  const newAddress = page.getByRole("radio", { name: "A new address" });
  if (await newAddress.isVisible()) await newAddress.check();
  for (const [label, value] of ADDRESS) {
    const seattle = { City: "Seattle", "Postal code": "98101", "State, province or region (where the country has them)": "WA" };
    await page.getByLabel(label, { exact: true }).fill(seattle[label] ?? value);
  }
  const taxLine = page.getByTestId("tax-line");
  await taxLine.getByText("WA sales tax (6.5%)").waitFor();
  const promotion = page.locator("section", { has: page.getByRole("heading", { name: "Promotion code" }) });
  await promotion.getByLabel("Code").fill("NO-SUCH-CODE");
  await promotion.getByRole("button", { name: "Apply code" }).click();
  await promotion.getByRole("alert").getByText("no promotion has this code").waitFor();
  await promotion.getByLabel("Code").fill(code.toLowerCase());
  await promotion.getByRole("button", { name: "Apply code" }).click();
  await page.getByTestId("discount-line").getByText(`Ten percent (${code})`).waitFor();
  const total = await page.getByTestId("total").textContent();
  await accessible(page, "checkout with tax");
  await page.getByTestId("total").scrollIntoViewIfNeeded();
  await shot(page, "storefront-checkout-tax");
  await page.getByLabel("Card").selectOption({ label: "Visa ending 4242" });
  await page.getByLabel("A note for the shop (optional)").fill("Leave it with the neighbour");
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByRole("heading", { name: /^Order SO-/ }).waitFor();
  await page.getByText("Your note: Leave it with the neighbour").waitFor();
  await page.getByText(/^Bill to .*98101 Seattle, US$/).waitFor();
  await page.getByTestId("tax-line").getByText("WA sales tax (6.5%)").waitFor();
  await page.getByTestId("discount-line").getByText(`Ten percent (${code})`).waitFor();
  assert.equal(await page.getByTestId("total").textContent(), total, "the order's total is the preview's");
  await admin.context().close();
  await page.context().close();
  return code;
}

/**
 * A guest buys without an account: checks out the guest cart with an email, applies `code`,
 * pays the total shown, and sees the confirmation; then finds the order on Order status with
 * its number and that email, and a wrong email finds nothing.
 */
async function guestBuysWithACode(browser, product, code) {
  const page = await (await newContext(browser)).newPage();
  await addToCart(page, product);
  await page.goto("/cart");
  await page.getByRole("link", { name: "Check out as a guest" }).click();
  await page.getByRole("heading", { name: "Checkout", level: 1 }).waitFor();
  const email = `guest-buyer-${RUN}@example.com`;
  await page.getByLabel("Email for your confirmation").fill(email);
  await fillAddress(page);
  await page.getByRole("radio", { name: /days/ }).first().waitFor();
  const promotion = page.locator("section", { has: page.getByRole("heading", { name: "Promotion code" }) });
  await promotion.getByLabel("Code").fill(code.toLowerCase());
  await promotion.getByRole("button", { name: "Apply code" }).click();
  await page.getByTestId("discount-line").getByText(`Ten percent (${code})`).waitFor();
  const total = await page.getByTestId("total").textContent();
  await accessible(page, "guest checkout");
  await shot(page, "storefront-guest-checkout");
  await page.getByLabel("Card").selectOption({ label: "Visa ending 4242" });
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByRole("heading", { name: "Thank you for your order" }).waitFor();
  const number = await page.getByTestId("order-number").textContent();
  assert.match(number, /^SO-/);
  assert.equal(await page.getByTestId("total").textContent(), total, "the order's total is the preview's");

  await page.getByRole("link", { name: "Order status" }).first().click();
  await page.getByRole("heading", { name: "Order status", level: 1 }).waitFor();
  const lookup = page.getByRole("form", { name: "Find an order" });
  await lookup.getByLabel("Order number").fill(number);
  await lookup.getByLabel("Email").fill(`someone-else-${RUN}@example.com`);
  await lookup.getByRole("button", { name: "Find order" }).click();
  await page.getByText("We found no order with this number and email.").waitFor();
  await lookup.getByLabel("Email").fill(email.toUpperCase());
  await lookup.getByRole("button", { name: "Find order" }).click();
  await page.getByRole("heading", { name: `Order ${number}` }).waitFor();
  await page.getByTestId("discount-line").getByText(`Ten percent (${code})`).waitFor();
  assert.equal(await page.getByTestId("total").textContent(), total, "the order found is the one paid");
  await accessible(page, "order status");
  await shot(page, "storefront-order-status");
  await page.context().close();
}

/**
 * A customer pays with a card whose bank asks them to confirm (3-D Secure): checkout sends them
 * to the bank's page, they complete the check, and back on the order's page it turns paid.
 */
async function threeDSecureCheckout(browser, product) {
  const page = await (await newContext(browser)).newPage();
  await page.goto("/signin");
  await signIn(page, CUSTOMER);
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  await addToCart(page, product);
  await page.goto("/checkout");
  await placeOrder(page, "Visa ending 3184 (your bank asks you to confirm)");
  await page.getByRole("heading", { name: "Confirm your payment" }).waitFor();
  await shot(page, "bank-3d-secure");
  await page.getByRole("button", { name: "Complete authentication" }).click();
  await page.getByRole("heading", { name: /^Order SO-/ }).waitFor();
  // Paid (the embedded shop fulfils at once, so the status may have moved on already).
  await page.getByText("Paid with visa ending 3184: Captured").waitFor();
  await shot(page, "storefront-order-after-3d-secure");
  await page.context().close();
}

/**
 * A guest pays with the same kind of card: back from the bank's page, the order status page
 * finds the order by itself (its number and the guest's email in the address) and shows it paid.
 */
async function guestThreeDSecureCheckout(browser, product) {
  const page = await (await newContext(browser)).newPage();
  await addToCart(page, product);
  await page.goto("/cart");
  await page.getByRole("link", { name: "Check out as a guest" }).click();
  await page.getByLabel("Email for your confirmation").fill(`guest-3ds-${RUN}@example.com`);
  await placeOrder(page, "Visa ending 3184 (your bank asks you to confirm)");
  await page.getByRole("heading", { name: "Confirm your payment" }).waitFor();
  await page.getByRole("button", { name: "Complete authentication" }).click();
  await page.getByRole("heading", { name: "Order status", level: 1 }).waitFor();
  await page.getByRole("heading", { name: /^Order SO-/ }).waitFor();
  await until("the guest's order to be paid", async () => {
    const status = await page.getByTestId("order-status").textContent();
    return status && status !== "Pending";
  });
  await accessible(page, "order status after 3-D Secure");
  await page.context().close();
}

/** The text part of the newest email to `to` in the shop's mail sink (`MAIL_DIR`) that matches `pattern`. */
async function mailTo(to, pattern) {
  const dir = process.env.MAIL_DIR;
  assert.ok(dir, "MAIL_DIR names the shop's mail sink");
  return until(`an email to ${to}`, () => {
    let files;
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".eml"));
    } catch {
      return null;
    }
    for (const file of files) {
      const text = plainText(readFileSync(join(dir, file), "utf8"));
      if (text && readFileSync(join(dir, file), "utf8").includes(`To: ${to}`) && pattern.test(text)) return text;
    }
    return null;
  });
}

/** The text/plain part of an email, its transfer encoding undone. */
function plainText(raw) {
  const part = raw.split(/\r?\n--/).find((p) => /Content-Type: text\/plain/i.test(p));
  if (!part) return null;
  const [headers, ...body] = part.split(/\r?\n\r?\n/);
  const content = body.join("\n\n");
  if (/Content-Transfer-Encoding: base64/i.test(headers)) return Buffer.from(content.replace(/\s/g, ""), "base64").toString("utf8");
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    const bytes = content.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return content;
}

/**
 * A customer who forgot their password asks for a link, reads it in the email, sets a new
 * password with it, and signs in with the new one; the link does nothing a second time.
 */
async function forgottenPassword(browser) {
  const email = `forgetful-${RUN}@example.com`;
  await api(
    "mutation($input: RegisterInput!) { register(input: $input) { userErrors { code } } }",
    { input: { email, password: "first-password-1", name: "Forgetful" } },
  );
  const page = await (await newContext(browser)).newPage();
  await page.goto("/signin");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByRole("heading", { name: "Forgot your password?" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await page.getByText("If an account has this email").waitFor();
  await accessible(page, "forgot password");
  const mail = await mailTo(email, /reset-password\?token=/);
  const link = new URL(mail.match(/https?:\/\/\S+reset-password\?token=\S+/)[0]);
  await page.goto(`${link.pathname}${link.search}`);
  await page.getByRole("heading", { name: "Set a new password" }).waitFor();
  await page.getByLabel(/^New password/).fill("second-password-2");
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByRole("heading", { name: "Your password is changed" }).waitFor();
  await accessible(page, "password changed");
  await page.getByRole("link", { name: "Sign in" }).first().click();
  await signIn(page, { email, password: "second-password-2" });
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  // The same link again: used.
  await page.goto(`${link.pathname}${link.search}`);
  await page.getByLabel(/^New password/).fill("third-password-3");
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByText("this reset link was used already or has expired").waitFor();
  await page.context().close();
}

/**
 * A customer signed in on two devices signs the other one out from the account page: the other
 * device's next page asks to sign in again.
 */
async function signOutAnotherDevice(browser) {
  const email = `two-devices-${RUN}@example.com`;
  await api("mutation($input: RegisterInput!) { register(input: $input) { userErrors { code } } }", {
    input: { email, password: "device-password-1", name: "Two Devices" },
  });
  const [laptop, phone] = [await (await newContext(browser)).newPage(), await (await newContext(browser)).newPage()];
  for (const page of [phone, laptop]) {
    await page.goto("/signin");
    await signIn(page, { email, password: "device-password-1" });
    await page.getByRole("heading", { name: "Your account" }).waitFor();
  }
  await laptop.reload();
  const devices = laptop.locator("section", { has: laptop.getByRole("heading", { name: "Signed-in devices" }) });
  await devices.getByText("(this device)").waitFor();
  await accessible(laptop, "account with devices");
  // Every other session (the phone's, and the one registering made) signed out.
  while ((await devices.getByRole("button", { name: /^Sign out the device/ }).count()) > 0) {
    const before = await devices.getByRole("listitem").count();
    await devices.getByRole("button", { name: /^Sign out the device/ }).first().click();
    await until("the session to leave the list", async () => (await devices.getByRole("listitem").count()) < before);
  }
  await phone.goto("/account/orders");
  await phone.getByText("Your session has ended").first().waitFor();
  await laptop.goto("/account");
  await laptop.getByRole("heading", { name: "Your account" }).waitFor();
  await laptop.context().close();
  await phone.context().close();
}

/**
 * A customer changes their email on the account page (the password needed); the link emailed to
 * the new address confirms it, and the account shows the new address, confirmed.
 */
async function changeEmail(browser) {
  const email = `moving-${RUN}@example.com`;
  const newEmail = `moved-${RUN}@example.com`;
  await api("mutation($input: RegisterInput!) { register(input: $input) { userErrors { code } } }", {
    input: { email, password: "moving-house-42", name: "Moving" },
  });
  const page = await (await newContext(browser)).newPage();
  await page.goto("/signin");
  await signIn(page, { email, password: "moving-house-42" });
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  const settings = page.locator("section", { has: page.getByRole("heading", { name: "Email address" }) });
  await settings.getByText("is not confirmed yet").waitFor();
  await settings.getByLabel("New email").fill(newEmail);
  await settings.getByLabel("Your password").fill("moving-house-42");
  await settings.getByRole("button", { name: "Change email" }).click();
  await settings.getByText(`Follow the link we emailed to ${newEmail}`).waitFor();
  await accessible(page, "account with an email change");
  const mail = await mailTo(newEmail, /verify-email\?token=/);
  const link = new URL(mail.match(/https?:\/\/\S+verify-email\?token=\S+/)[0]);
  await page.goto(`${link.pathname}${link.search}`);
  await page.getByText(`${newEmail} is confirmed`).waitFor();
  await accessible(page, "email confirmed");
  await page.goto("/account");
  await page.getByText(`${newEmail} is confirmed.`).waitFor();
  await page.context().close();
}

/**
 * An admin makes a "Refunds" role (orders: see and refund) on the Staff page and gives it to a
 * new colleague found by email; the colleague signs in to the dashboard and sees Orders but no
 * Products, Staff or Taxes screens, and the Products address says the screen is not available.
 */
async function staffWithoutAPermission(browser) {
  const email = `refunds-${RUN}@example.com`;
  await api("mutation($input: RegisterInput!) { register(input: $input) { userErrors { code } } }", {
    input: { email, password: "ledger-harbour-31", name: "Rita Refunds" },
  });
  const admin = await (await newContext(browser)).newPage();
  await admin.goto("/admin/staff");
  await signIn(admin, ADMIN);
  await admin.getByRole("heading", { level: 1, name: "Staff" }).waitFor();
  const roleName = `Refunds ${RUN}`;
  const newRole = admin.locator("form", { has: admin.getByRole("heading", { name: "New role" }) });
  await newRole.getByLabel("Role name").fill(roleName);
  await newRole.getByLabel("Orders: see every order, payment and shipment").check();
  await newRole.getByLabel("Orders: refund payments").check();
  await newRole.getByRole("button", { name: "Create role" }).click();
  await admin.getByRole("form", { name: `Role ${roleName}` }).waitFor();
  await admin.getByLabel("Their email").fill(email);
  await admin.getByRole("button", { name: "Find user" }).click();
  const theirRoles = admin.getByRole("form", { name: `Staff roles of ${email}` });
  await theirRoles.getByLabel(roleName, { exact: true }).check();
  await theirRoles.getByRole("button", { name: `Save roles of ${email}` }).click();
  // Now listed among the staff, holding the role.
  await until("the colleague to be listed as staff", async () =>
    (await admin.getByRole("form", { name: `Staff roles of ${email}` }).getByLabel(roleName, { exact: true }).isChecked().catch(() => false)),
  );
  await accessible(admin, "admin staff");
  await shot(admin, "admin-staff");
  // The audit log shows who gave the role, filtered to that action.
  await admin.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Audit log" }).click();
  const granted = admin.getByRole("row", { name: /setStaffRoles with staff:manage.*User/ });
  // The record reaches the log through the event bus: look again until it is there.
  await until("the grant in the audit log", async () => {
    await admin.goto("/admin/audit-log");
    await admin.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await admin.getByLabel("Action").fill("setStaffRoles");
    await admin.getByRole("button", { name: "Filter", exact: true }).click();
    await granted.or(admin.getByText("No records match.")).first().waitFor();
    return (await granted.count()) > 0;
  });
  await accessible(admin, "admin audit log");
  await shot(admin, "admin-audit-log");

  const colleague = await (await newContext(browser)).newPage();
  await colleague.goto("/admin");
  await signIn(colleague, { email, password: "ledger-harbour-31" });
  const menu = colleague.getByRole("navigation", { name: "Dashboard" });
  await menu.getByRole("link", { name: "Orders", exact: true }).waitFor();
  for (const hidden of ["Products", "Staff", "Audit log", "Taxes", "Customers", "API clients"]) {
    assert.equal(await menu.getByRole("link", { name: hidden, exact: true }).count(), 0, `${hidden} is not shown`);
  }
  await menu.getByRole("link", { name: "Orders", exact: true }).click();
  await colleague.getByRole("heading", { level: 1, name: "Orders" }).waitFor();
  await colleague.goto("/admin/products");
  await colleague.getByRole("heading", { level: 1, name: "Not available" }).waitFor();
  await colleague.getByRole("alert").getByText("catalog:write").waitFor();

  // The colleague turns on two-factor authentication, then signs in with a code from the app.
  await menu.getByRole("link", { name: "Two-factor authentication" }).click();
  await colleague.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const secret = await colleague.getByTestId("totp-secret").textContent();
  await colleague.getByLabel("Code from the app").fill(totp(secret));
  await colleague.getByRole("button", { name: "Turn on" }).click();
  await colleague.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").nth(9).waitFor();
  await accessible(colleague, "admin two-factor recovery codes");
  await colleague.getByRole("button", { name: "Sign in again" }).click();
  await signIn(colleague, { email, password: "ledger-harbour-31" });
  // The code just used works once: the app's next one (accepted a step early) signs in.
  await colleague.getByLabel("Authentication code").fill(totp(secret, Date.now() + 30_000));
  await colleague.getByRole("button", { name: "Verify" }).click();
  await menu.getByRole("link", { name: "Orders", exact: true }).waitFor();
  await admin.context().close();
  await colleague.context().close();
}

const browser = await launch();
// On a failure, every open page is photographed (failure-N.png beside the screenshots).
async function photographOpenPages() {
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      await page.screenshot({ path: join(SCREENSHOTS, `failure-${n++}.png`), fullPage: true }).catch(() => {});
    }
  }
}
const started = Date.now();
let failed = false;
try {
  const products = await stockedProducts();
  assert.ok(products.length >= 3, "three products in stock");
  const bought = await guestBuysAndReviews(browser, products[0]);
  console.log("ok - a guest finds a misspelled product, signs up, buys it, sees it delivered and reviews it");
  await categoryPage(browser);
  console.log("ok - a category page filters and sorts");
  await oldSlugFindsTheProduct(browser, products[products.length - 1]);
  console.log("ok - a link with a product's old slug shows it at its new address");
  await customerPicksAVariant(browser);
  console.log("ok - a customer picks a T-shirt's size and colour (a sold-out one says so), buys it, and only that variant's stock moves");
  await badInput(browser, products);
  console.log("ok - bad input: wrong password, declined card, network failure mid-checkout, sold out, expired sessions");
  await adminJourney(browser, bought);
  console.log("ok - an admin creates and restocks a product, uploads an image of one variant, gives its category a typed attribute, puts it in a collection on the home page, refunds an order, edits a template, manages an API client and publishes a review");
  const code = await taxedCheckout(browser, (await stockedProducts())[0]);
  console.log("ok - an admin sets a state's sales tax and makes a promotion code; a customer's checkout applies the code and shows both, and the order charges the total shown");
  await guestBuysWithACode(browser, (await stockedProducts())[0], code);
  console.log("ok - a guest buys with the code and an email, and finds the order with its number and that email (a wrong email finds nothing)");
  await threeDSecureCheckout(browser, (await stockedProducts())[0]);
  console.log("ok - a customer's bank asks to confirm the payment (3-D Secure): confirmed on its page, the order is paid");
  await guestThreeDSecureCheckout(browser, (await stockedProducts())[0]);
  console.log("ok - a guest's bank asks to confirm the payment: back from its page, the order status page shows the order paid");
  await forgottenPassword(browser);
  console.log("ok - a customer resets a forgotten password from the emailed link (read from the mail sink), signs in with the new one, and the link works once");
  await signOutAnotherDevice(browser);
  console.log("ok - a customer signs another device out from the account page, and its next page asks to sign in again");
  await changeEmail(browser);
  console.log("ok - a customer changes their email on the account page and confirms it from the emailed link");
  await staffWithoutAPermission(browser);
  console.log("ok - an admin gives a colleague a Refunds role on the Staff page and finds it in the audit log; the colleague sees Orders but not the screens the role does not grant, turns on two-factor authentication and signs in with a code");
  console.log(`ok - axe-core: no serious or critical violations on ${checked.join(", ")}`);
} catch (error) {
  failed = true;
  console.error("not ok -", error);
  await photographOpenPages();
} finally {
  await browser.close();
}
console.log(`browser journeys ${failed ? "failed" : "passed"} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SCREENSHOTS}`);
process.exit(failed ? 1 : 0);
