// The sign-in form of both apps: email and password, then a code when the account has a second
// factor, the userErrors of each, and what each app does once signed in (`onSignedIn`: the
// storefront merges the guest cart, the admin just shows).
import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation } from "urql";
import { LoginDocument, VerifyMfaDocument } from "./generated/graphql";
import type { SessionUser, Tokens } from "./session";
import { ErrorMessage, Field, PasswordField, UserErrors } from "./ui";

export function SignInForm({
  heading,
  notice,
  onSignedIn,
  children,
}: {
  heading: string;
  /** Shown under the heading (e.g. that the session ended). */
  notice?: ReactNode;
  onSignedIn: (tokens: Tokens, user: SessionUser) => void | Promise<void>;
  /** Shown under the button (e.g. a link to sign up). */
  children?: ReactNode;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [login, submit] = useMutation(LoginDocument);
  const [verified, verify] = useMutation(VerifyMfaDocument);
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const payload = (await submit({ input: { email, password } })).data?.login;
    if (payload?.mfaToken) setMfaToken(payload.mfaToken);
    else if (payload?.user && payload.accessToken) await onSignedIn(payload, payload.user);
  };
  const onVerify = async (event: FormEvent) => {
    event.preventDefault();
    const payload = (await verify({ input: { mfaToken: mfaToken ?? "", code } })).data?.verifyMfa;
    if (payload?.user && payload.accessToken) await onSignedIn(payload, payload.user);
    // The sign-in expired: back to the password.
    else if (payload?.userErrors.some((e) => e.code === "INVALID_MFA_CHALLENGE")) setMfaToken(null);
  };
  if (mfaToken) {
    return (
      <form onSubmit={onVerify} style={{ maxWidth: "24rem" }}>
        <h1>{heading}</h1>
        <p>Enter the code from your authenticator app, or one of your recovery codes.</p>
        <Field label="Authentication code">
          <input autoComplete="one-time-code" required autoFocus value={code} onChange={(e) => setCode(e.target.value)} />
        </Field>
        {verified.error && <ErrorMessage error={verified.error} />}
        <UserErrors errors={verified.data?.verifyMfa.userErrors} />
        <button type="submit" disabled={verified.fetching}>
          {verified.fetching ? "Checking…" : "Verify"}
        </button>
      </form>
    );
  }
  return (
    <form onSubmit={onSubmit} style={{ maxWidth: "24rem" }}>
      <h1>{heading}</h1>
      {notice}
      <Field label="Email">
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <PasswordField label="Password" kind="current" value={password} onChange={setPassword} />
      {login.error && <ErrorMessage error={login.error} />}
      <UserErrors errors={login.data?.login.userErrors} />
      <button type="submit" disabled={login.fetching}>
        {login.fetching ? "Signing in…" : "Sign in"}
      </button>
      {children}
    </form>
  );
}
