// The key of a mutation that must happen once however often it is sent (checkout, a refund, a
// stock adjustment). It stays in sessionStorage until the shop answers, so pressing again after
// a network failure, even after a reload, sends the same key and gets the first result; an
// answer (done, or refused with a reason) ends it, and the next submission gets a new key.
import { useState } from "react";

/** 128 random bits (`crypto.randomUUID` exists only on https and localhost). */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The pending key of `scope` (e.g. `refund.<paymentId>`), and a call for when the shop answered. */
export function useIdempotencyKey(scope: string): { key: string; answered: () => void } {
  const storageKey = `shop.idempotencyKey.${scope}`;
  const [, renew] = useState(0);
  let key = sessionStorage.getItem(storageKey);
  if (!key) {
    key = newKey();
    sessionStorage.setItem(storageKey, key);
  }
  return {
    key,
    answered: () => {
      sessionStorage.removeItem(storageKey);
      renew((n) => n + 1);
    },
  };
}
