// Small pieces both apps build their screens from: every request shows that it is loading and
// what went wrong, every form field has a label, expected failures (userErrors) are listed.
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { formatMoney, type MoneyValue } from "./format";

export function Money({ value }: { value: MoneyValue | null | undefined }) {
  return <span className="money">{formatMoney(value)}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** What a failed request means to the reader, never a stack trace. */
export function errorMessage(error: CombinedError): string {
  if (error.networkError) return "The shop cannot be reached. Check your connection and try again.";
  const code = error.graphQLErrors[0]?.extensions?.code;
  switch (code) {
    case "UNAUTHENTICATED":
      return "Your session has ended. Please sign in again.";
    case "FORBIDDEN":
      return "Your account may not do this.";
    case "PERSISTED_QUERY_NOT_FOUND":
      return "This page is out of date. Reload it to continue.";
    default:
      return error.graphQLErrors[0]?.message ?? error.message;
  }
}

export function ErrorMessage({ error, retry }: { error: CombinedError; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <p>{errorMessage(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading, failed, or the data: the three states of every query. */
export function Query<T>({
  result,
  what,
  retry,
  children,
}: {
  result: { data?: T; fetching: boolean; error?: CombinedError };
  what: string;
  retry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (result.data) {
    return (
      <>
        {result.error && <ErrorMessage error={result.error} retry={retry} />}
        {children(result.data)}
      </>
    );
  }
  if (result.error) return <ErrorMessage error={result.error} retry={retry} />;
  return <Loading what={what} />;
}

export interface UserError {
  field?: readonly string[] | null;
  code: string;
  message: string;
}

export function UserErrors({ errors }: { errors: readonly UserError[] | null | undefined }) {
  if (!errors?.length) return null;
  return (
    <ul className="error" role="alert">
      {errors.map((error) => (
        <li key={`${error.code}-${error.message}`}>{error.message}</li>
      ))}
    </ul>
  );
}

export function Field({
  label,
  children,
  hint,
}: {
  label: string;
  children: ReactNode;
  hint?: string;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      {children}
      {hint && <small>{hint}</small>}
    </label>
  );
}

/**
 * A password input: `current` to sign in or confirm (the browser fills the saved one), `new` to
 * choose one (the browser may suggest one; the shop's rule is the hint).
 */
export function PasswordField({
  label,
  kind,
  value,
  onChange,
}: {
  label: string;
  kind: "current" | "new";
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field label={label} hint={kind === "new" ? "At least 10 characters." : undefined}>
      <input
        type="password"
        autoComplete={`${kind}-password`}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}

/** Next and previous pages of a Relay connection, keeping the cursors already seen. */
export function Pager({
  cursors,
  hasNextPage,
  endCursor,
  onChange,
}: {
  cursors: (string | null)[];
  hasNextPage: boolean;
  endCursor: string | null | undefined;
  onChange: (cursors: (string | null)[]) => void;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={cursors.length <= 1} onClick={() => onChange(cursors.slice(0, -1))}>
        Previous page
      </button>
      <span>Page {cursors.length}</span>
      <button
        type="button"
        disabled={!hasNextPage || !endCursor}
        onClick={() => endCursor && onChange([...cursors, endCursor])}
      >
        Next page
      </button>
    </nav>
  );
}
