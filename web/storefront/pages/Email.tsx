// The account's address: confirmed from the link emailed at sign-up (sent again on request), or
// changed to a new one, which replaces it once the link sent there is followed (the old address
// is then told). The link's page confirms it whether or not the visitor is signed in.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "wouter";
import { useMutation } from "urql";
import {
  ChangeEmailDocument,
  RequestEmailVerificationDocument,
  VerifyEmailDocument,
} from "../../shared/generated/graphql";
import { ErrorMessage, Field, PasswordField, UserErrors } from "../../shared/ui";

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [verified, verify] = useMutation(VerifyEmailDocument);
  useEffect(() => {
    if (token) void verify({ input: { token } });
  }, [token, verify]);
  const confirmed = verified.data?.verifyEmail.user;
  return (
    <>
      <h1>Confirm your email</h1>
      {verified.fetching && <p role="status">Confirming…</p>}
      {verified.error && <ErrorMessage error={verified.error} />}
      <UserErrors errors={verified.data?.verifyEmail.userErrors} />
      {confirmed && (
        <p role="status">
          {confirmed.email} is confirmed. <Link href="/account">Your account</Link>
        </p>
      )}
    </>
  );
}

/** On the account page: whether the address is confirmed, and a form to change it. */
export function EmailSettings({ email, verified }: { email: string; verified: boolean }) {
  const [resent, resend] = useMutation(RequestEmailVerificationDocument);
  const [changed, change] = useMutation(ChangeEmailDocument);
  const [newEmail, setNewEmail] = useState("");
  const [password, setPassword] = useState("");
  const onChange = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await change({ input: { newEmail, password } });
    if (answer.data?.changeEmail.success) setPassword("");
  };
  return (
    <section aria-labelledby="email-settings">
      <h2 id="email-settings">Email address</h2>
      {verified ? (
        <p>{email} is confirmed.</p>
      ) : (
        <p>
          {email} is not confirmed yet: follow the link we emailed.{" "}
          {resent.data?.requestEmailVerification.success ? (
            <span role="status">A new link is on its way.</span>
          ) : (
            <button type="button" className="secondary" onClick={() => resend({})}>
              Send the link again
            </button>
          )}
        </p>
      )}
      <UserErrors errors={resent.data?.requestEmailVerification.userErrors} />
      <form onSubmit={onChange}>
        <h3>Change your email</h3>
        <Field label="New email">
          <input type="email" autoComplete="email" required value={newEmail} onChange={(e) => setNewEmail(e.target.value)} />
        </Field>
        <PasswordField label="Your password" kind="current" value={password} onChange={setPassword} />
        {changed.error && <ErrorMessage error={changed.error} />}
        <UserErrors errors={changed.data?.changeEmail.userErrors} />
        {changed.data?.changeEmail.success ? (
          <p role="status">Follow the link we emailed to {newEmail}: it becomes your address once you do.</p>
        ) : (
          <button type="submit" disabled={changed.fetching}>
            Change email
          </button>
        )}
      </form>
    </section>
  );
}
