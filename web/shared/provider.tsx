// One session store and one GraphQL client per app. Signing in or out starts a fresh client, so
// that nothing one user saw stays in the cache for the next.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { Provider } from "urql";
import { createClient, type Invalidations } from "./client";
import { SessionStore, type Session } from "./session";

interface SessionContext {
  store: SessionStore;
  session: Session | null;
  /** True after the session ended on its own (the refresh token stopped working). */
  expired: boolean;
}

const Context = createContext<SessionContext | null>(null);

export function ShopProvider({
  storageKey,
  invalidations,
  children,
}: {
  storageKey: string;
  invalidations: Invalidations;
  children: ReactNode;
}) {
  const store = useMemo(() => new SessionStore(storageKey), [storageKey]);
  const [state, setState] = useState({ session: store.current, expired: false, generation: 0 });
  useEffect(
    () =>
      store.subscribe((session, reason) =>
        setState((previous) => ({
          session,
          expired: reason === "expired",
          // A refresh keeps the cache; any other change starts over.
          generation: reason === "refreshed" ? previous.generation : previous.generation + 1,
        })),
      ),
    [store],
  );
  // A new client for each generation (`state.generation` is the dependency that matters).
  const client = useMemo(() => createClient(store, invalidations), [store, state.generation]);
  const value = useMemo(
    () => ({ store, session: state.session, expired: state.expired }),
    [store, state.session, state.expired],
  );
  return (
    <Context.Provider value={value}>
      <Provider value={client}>{children}</Provider>
    </Context.Provider>
  );
}

export function useSession(): SessionContext {
  const context = useContext(Context);
  if (!context) throw new Error("useSession outside ShopProvider");
  return context;
}
