// Chromium for the browser tests and the measurements: Debian's package, driven by
// playwright-core (which downloads no browser of its own).
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";

export const SHOP_URL = (process.env.SHOP_URL ?? "http://127.0.0.1:4000").replace(/\/$/, "");

/** Flags for a machine whose network is closed: nothing in the background reaches out. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: FLAGS,
    headless: true,
  });
}

/**
 * A fresh browser profile on the shop. Requests to other hosts (the demo's product images)
 * are refused at once, as they would be on this machine anyway; the shop's own processes on
 * this machine (the test card provider's 3-D Secure page) are reached. `bypassCSP` lets the
 * accessibility checker's script into the page.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ baseURL: SHOP_URL, bypassCSP: true, ...options });
  const shopHost = new URL(SHOP_URL).hostname;
  await context.route(
    (url) => url.hostname !== shopHost,
    (route) => route.abort("blockedbyclient"),
  );
  return context;
}

/** An operation straight to the router, for setting up and checking what the UI did. */
export async function api(query, variables = {}, token) {
  const response = await fetch(`${SHOP_URL}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export async function login(email, password) {
  const data = await api(
    "mutation($input: LoginInput!) { login(input: $input) { accessToken userErrors { message } } }",
    { input: { email, password } },
  );
  if (!data.login.accessToken) throw new Error(`login ${email}: ${JSON.stringify(data.login.userErrors)}`);
  return data.login.accessToken;
}

/** Waits for `check` to hold, asking again every `every` ms (for what the UI cannot push). */
export async function until(what, check, { timeout = 60_000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** The RFC 6238 code of a base32 `secret` at `time` (ms), as an authenticator app shows it. */
export function totp(secret, time = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / 30)));
  const hmac = createHmac("sha1", key).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  const value = (hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}
