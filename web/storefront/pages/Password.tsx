// A forgotten password: the email asked for (the answer is the same whether or not an account
// has it), then a new password set from the link in that email. And a signed-in customer's own
// change, after which this session goes on and every other one ends.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "wouter";
import { useMutation } from "urql";
import {
  ChangePasswordDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
} from "../../shared/generated/graphql";
import { useSession } from "../../shared/provider";
import { ErrorMessage, Field, PasswordField, UserErrors } from "../../shared/ui";

export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const [request, submit] = useMutation(RequestPasswordResetDocument);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ input: { email } });
  };
  const payload = request.data?.requestPasswordReset;
  return (
    <form onSubmit={onSubmit} style={{ maxWidth: "24rem" }}>
      <h1>Forgot your password?</h1>
      <p>We will email a link to set a new one.</p>
      <Field label="Email">
        <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      {request.error && <ErrorMessage error={request.error} />}
      <UserErrors errors={payload?.userErrors} />
      {payload?.success ? (
        <p role="status">If an account has this email, a link to set a new password is on its way. It works for an hour.</p>
      ) : (
        <button type="submit" disabled={request.fetching}>
          Email me a link
        </button>
      )}
    </form>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [reset, submit] = useMutation(ResetPasswordDocument);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit({ input: { token, newPassword: password } });
  };
  const payload = reset.data?.resetPassword;
  if (payload?.success) {
    return (
      <>
        <h1>Your password is changed</h1>
        <p role="status">
          Every device that was signed in is signed out. <Link href="/signin">Sign in</Link> with your new password.
        </p>
      </>
    );
  }
  return (
    <form onSubmit={onSubmit} style={{ maxWidth: "24rem" }}>
      <h1>Set a new password</h1>
      <PasswordField label="New password" kind="new" value={password} onChange={setPassword} />
      {reset.error && <ErrorMessage error={reset.error} />}
      <UserErrors errors={payload?.userErrors} />
      {payload?.userErrors.some((e) => e.code === "INVALID_RESET_TOKEN") && (
        <p>
          <Link href="/forgot-password">Ask for a new link</Link>
        </p>
      )}
      <button type="submit" disabled={reset.fetching || !token}>
        Set password
      </button>
    </form>
  );
}

/** On the account page: the current password and a new one. */
export function ChangePassword() {
  const { store } = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [change, submit] = useMutation(ChangePasswordDocument);
  const [done, setDone] = useState(false);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const answer = await submit({ input: { currentPassword: current, newPassword: next } });
    const payload = answer.data?.changePassword;
    if (payload?.accessToken && payload.user) {
      // This session goes on with the new tokens; every other one has ended.
      store.signIn(payload, payload.user);
      setCurrent("");
      setNext("");
      setDone(true);
    }
  };
  return (
    <form onSubmit={onSubmit} aria-labelledby="change-password" style={{ maxWidth: "24rem" }}>
      <h2 id="change-password">Change password</h2>
      <PasswordField label="Current password" kind="current" value={current} onChange={setCurrent} />
      <PasswordField label="New password" kind="new" value={next} onChange={setNext} />
      {change.error && <ErrorMessage error={change.error} />}
      <UserErrors errors={change.data?.changePassword.userErrors} />
      {done && <p role="status">Your password is changed; your other devices are signed out.</p>}
      <button type="submit" disabled={change.fetching}>
        Change password
      </button>
    </form>
  );
}
