// The apps' GraphQL client: urql with Graphcache's normalized cache (records keyed by
// `__typename` and `id`; the manifest's bodies carry `__typename` for it), over the transport.
import { cacheExchange, type Cache } from "@urql/exchange-graphcache";
import { Client, fetchExchange } from "urql";
import type { SessionStore } from "./session";
import { createTransport, GRAPHQL_PATH } from "./transport";

/** Root fields to drop from the cache after each mutation, so lists show the change. */
export type Invalidations = Record<string, string[]>;

export function createClient(store: SessionStore, invalidations: Invalidations): Client {
  const mutationUpdates: Record<string, (result: unknown, args: unknown, cache: Cache) => void> = {};
  for (const [mutation, fields] of Object.entries(invalidations)) {
    mutationUpdates[mutation] = (_result, _args, cache) => invalidateRootFields(cache, fields);
  }
  return new Client({
    url: GRAPHQL_PATH,
    exchanges: [cacheExchange({ updates: { Mutation: mutationUpdates } }), fetchExchange],
    fetch: createTransport(store, import.meta.env.PROD),
    requestPolicy: "cache-and-network",
    // The transport sends every operation in a POST body (by id in production).
    preferGetMethod: false,
  });
}

function invalidateRootFields(cache: Cache, names: string[]) {
  for (const field of cache.inspectFields("Query")) {
    if (names.includes(field.fieldName)) cache.invalidate("Query", field.fieldName, field.arguments ?? undefined);
  }
}
