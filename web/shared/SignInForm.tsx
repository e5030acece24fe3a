// The sign-in form of both apps: email and password, the login's userErrors, and what each app
// does once signed in (`onSignedIn`: the storefront merges the guest cart, the admin just shows).
import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation } from "urql";
import { LoginDocument } from "./generated/graphql";
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
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const payload = (await submit({ input: { email, password } })).data?.login;
    if (payload?.user && payload.accessToken) await onSignedIn(payload, payload.user);
  };
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
