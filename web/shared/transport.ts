// How the apps' operations reach the router: production builds send the persisted id of each
// operation (from the manifest) instead of its text; an operation with files (urql makes a
// GraphQL multipart request of it) keeps its files and map; every request carries the access token,
// refreshed shortly before it expires and once more when the router says UNAUTHENTICATED. When
// the refresh token no longer works, the session ends as "expired" and the app says so.
import { stringifyDocument } from "@urql/core";
import { RefreshTokenDocument } from "./generated/graphql";
import { persistedIds } from "./generated/persisted-ids";
import type { SessionStore } from "./session";

export const GRAPHQL_PATH = "/graphql";
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

interface RequestBody {
  operationName?: string;
  query?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** The body sent for an operation: its persisted id in production, its text in development. */
export function requestBody(body: RequestBody, persisted: boolean): RequestBody {
  if (!persisted) return body;
  const name = body.operationName ?? operationName(body.query ?? "");
  const id = name ? persistedIds[name] : undefined;
  if (!id) throw new Error(`operation ${name} is not in the persisted-operation manifest`);
  const { query: _text, ...rest } = body;
  return { ...rest, operationName: name, extensions: { ...body.extensions, persistedQuery: { version: 1, sha256Hash: id } } };
}

/** The name of the operation in a document's text (urql sends the text, not the name). */
function operationName(text: string): string | undefined {
  return /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(text)?.[1];
}

export function createTransport(store: SessionStore, persisted: boolean): typeof fetch {
  let refreshing: Promise<boolean> | null = null;

  async function refresh(): Promise<boolean> {
    const session = store.current;
    if (!session) return false;
    refreshing ??= (async () => {
      try {
        const response = await post(
          {
            operationName: "RefreshToken",
            query: stringifyDocument(RefreshTokenDocument),
            variables: { refreshToken: session.refreshToken },
          },
          undefined,
        );
        const answer = await response.json();
        const tokens = answer?.data?.refreshToken;
        if (tokens?.accessToken) {
          store.refreshed(tokens);
          return true;
        }
        store.signOut("expired");
        return false;
      } catch {
        // The network failed: keep the session, the next request tries again.
        return false;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  /** Posts an operation; `files` is urql's multipart form (its map and files) when it has any. */
  function post(body: RequestBody, token: string | undefined, signal?: AbortSignal | null, files?: FormData) {
    const headers: Record<string, string> = {
      accept: "application/graphql-response+json, application/json",
    };
    if (token) headers.authorization = `Bearer ${token}`;
    const operation = JSON.stringify(requestBody(body, persisted));
    let sent: BodyInit = operation;
    if (files) {
      // The browser writes the multipart content type with its boundary.
      const form = new FormData();
      form.append("operations", operation);
      for (const [name, value] of files) if (name !== "operations") form.append(name, value);
      sent = form;
    } else {
      headers["content-type"] = "application/json";
    }
    return fetch(GRAPHQL_PATH, { method: "POST", headers, body: sent, signal });
  }

  return async (_input, init) => {
    const files = init?.body instanceof FormData ? init.body : undefined;
    const text = files ? String(files.get("operations") ?? "{}") : String(init?.body ?? "{}");
    const body = JSON.parse(text) as RequestBody;
    if (store.current && store.current.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
    const token = store.current?.accessToken;
    const response = await post(body, token, init?.signal, files);
    if (!token || !(await isUnauthenticated(response))) return response;
    return (await refresh()) ? post(body, store.current?.accessToken, init?.signal, files) : response;
  };
}

async function isUnauthenticated(response: Response): Promise<boolean> {
  try {
    const answer = await response.clone().json();
    return (answer?.errors ?? []).some(
      (error: { extensions?: { code?: string } }) => error.extensions?.code === "UNAUTHENTICATED",
    );
  } catch {
    return false;
  }
}
