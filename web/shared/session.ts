// The signed-in session of one app, kept in localStorage so that a reload keeps it. Tokens come
// from `login`, `register` and `refreshToken`; the access token's claims say what the user may do.

export interface SessionUser {
  id: string;
  name: string;
  email: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch when the access token stops working. */
  expiresAt: number;
  user: SessionUser;
}

export interface Tokens {
  accessToken?: string | null;
  refreshToken?: string | null;
  expiresIn?: number | null;
}

type Listener = (session: Session | null, reason: "signed-in" | "refreshed" | "signed-out" | "expired") => void;

export class SessionStore {
  private session: Session | null;
  private listeners = new Set<Listener>();

  constructor(private readonly key: string) {
    this.session = read(key);
  }

  get current(): Session | null {
    return this.session;
  }

  /** The access token's roles (`customer`, and `staff` for a staff member). */
  roles(): string[] {
    const roles = this.claims().roles;
    return Array.isArray(roles) ? roles : [];
  }

  /** The staff permissions the access token carries (its scopes, like `orders:refund`). */
  permissions(): string[] {
    const scope = this.claims().scope;
    return typeof scope === "string" ? scope.split(" ").filter(Boolean) : [];
  }

  private claims(): Record<string, unknown> {
    const token = this.session?.accessToken;
    if (!token) return {};
    try {
      return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    } catch {
      return {};
    }
  }

  signIn(tokens: Tokens, user: SessionUser) {
    this.set(fromTokens(tokens, user), "signed-in");
  }

  refreshed(tokens: Tokens) {
    if (this.session) this.set(fromTokens(tokens, this.session.user), "refreshed");
  }

  signOut(reason: "signed-out" | "expired" = "signed-out") {
    this.set(null, reason);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(session: Session | null, reason: Parameters<Listener>[1]) {
    this.session = session;
    if (session) localStorage.setItem(this.key, JSON.stringify(session));
    else localStorage.removeItem(this.key);
    for (const listener of this.listeners) listener(session, reason);
  }
}

function fromTokens(tokens: Tokens, user: SessionUser): Session {
  if (!tokens.accessToken || !tokens.refreshToken || !tokens.expiresIn) {
    throw new Error("the answer holds no tokens");
  }
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: Date.now() + tokens.expiresIn * 1000,
    user,
  };
}

function read(key: string): Session | null {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}
