import { useState, type FormEvent } from "react";
import { Link, useLocation, useSearchParams } from "wouter";
import { useMutation } from "urql";
import { RegisterDocument } from "../../shared/generated/graphql";
import { useSession } from "../../shared/provider";
import type { SessionUser, Tokens } from "../../shared/session";
import { SignInForm } from "../../shared/SignInForm";
import { ErrorMessage, Field, PasswordField, UserErrors } from "../../shared/ui";
import { useMergeGuestCart } from "../cart";

/** After signing in or up: the guest cart joins the account, then on to where the user was going. */
function useSignedIn() {
  const { store } = useSession();
  const merge = useMergeGuestCart();
  const [, navigate] = useLocation();
  const [params] = useSearchParams();
  return async (tokens: Tokens, user: SessionUser) => {
    store.signIn(tokens, user);
    await merge();
    const next = params.get("next");
    navigate(next?.startsWith("/") ? next : "/account");
  };
}

export function SignInPage() {
  const signedIn = useSignedIn();
  const [params] = useSearchParams();
  return (
    <SignInForm heading="Sign in" onSignedIn={signedIn}>
      <p>
        New here? <Link href={`/signup${params.size ? `?${params}` : ""}`}>Create an account</Link>
      </p>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
    </SignInForm>
  );
}

export function SignUpPage() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [register, submit] = useMutation(RegisterDocument);
  const signedIn = useSignedIn();
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await submit({ input: { name, email, password } });
    const payload = answer.data?.register;
    if (payload?.user && payload.accessToken) await signedIn(payload, payload.user);
  };
  return (
    <form onSubmit={onSubmit} style={{ maxWidth: "24rem" }}>
      <h1>Create an account</h1>
      <Field label="Name">
        <input autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Email">
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <PasswordField label="Password" kind="new" value={password} onChange={setPassword} />
      {register.error && <ErrorMessage error={register.error} />}
      <UserErrors errors={register.data?.register.userErrors} />
      <button type="submit" disabled={register.fetching}>
        {register.fetching ? "Creating your account…" : "Create account"}
      </button>
    </form>
  );
}
