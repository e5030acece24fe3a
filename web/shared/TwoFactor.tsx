// Two-factor authentication for both apps: turning TOTP on (the secret and its otpauth:// link
// for an authenticator app, then a code from it, then the recovery codes shown once) and off
// (the password and a code). Turning it on ends the session's tokens: `onEnabled` tells the app
// (it signs in again, with a code from now on).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { ConfirmTotpDocument, DisableTotpDocument, StartTotpDocument, TwoFactorDocument } from "./generated/graphql";
import { ErrorMessage, Field, PasswordField, Query, UserErrors } from "./ui";

export function TwoFactor({ onEnabled }: { onEnabled: () => void }) {
  const [result, refetch] = useQuery({ query: TwoFactorDocument, requestPolicy: "network-only" });
  const [started, start] = useMutation(StartTotpDocument);
  const [confirmed, confirm] = useMutation(ConfirmTotpDocument);
  const [disabled, disable] = useMutation(DisableTotpDocument);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const recoveryCodes = confirmed.data?.confirmTotp.recoveryCodes;
  const onConfirm = async (event: FormEvent) => {
    event.preventDefault();
    await confirm({ input: { code } });
    setCode("");
  };
  const onDisable = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await disable({ input: { password, code } });
    if (answer.data?.disableTotp.success) {
      setPassword("");
      setCode("");
      refetch({ requestPolicy: "network-only" });
    }
  };
  if (recoveryCodes) {
    return (
      <section aria-labelledby="two-factor">
        <h2 id="two-factor">Two-factor authentication</h2>
        <p role="status">Two-factor authentication is on.</p>
        <p>
          Keep these recovery codes somewhere safe: each signs you in once if you lose your authenticator app. They are
          shown only now.
        </p>
        <ul aria-label="Recovery codes">
          {recoveryCodes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={onEnabled}>
          Sign in again
        </button>
      </section>
    );
  }
  return (
    <section aria-labelledby="two-factor">
      <h2 id="two-factor">Two-factor authentication</h2>
      <Query result={result} what="two-factor authentication" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) =>
          data.me?.mfaEnabled ? (
            <form onSubmit={onDisable}>
              <p>
                On. {data.me.recoveryCodesLeft} recovery {data.me.recoveryCodesLeft === 1 ? "code" : "codes"} left.
              </p>
              <PasswordField label="Your password" kind="current" value={password} onChange={setPassword} />
              <Field label="A code from your app, or a recovery code">
                <input autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
              </Field>
              {disabled.error && <ErrorMessage error={disabled.error} />}
              <UserErrors errors={disabled.data?.disableTotp.userErrors} />
              <button type="submit" className="secondary">
                Turn two-factor authentication off
              </button>
            </form>
          ) : started.data?.startTotp.secret ? (
            <form onSubmit={onConfirm}>
              <p>
                Add this key to your authenticator app (or open the link on your phone), then enter the code it shows.
              </p>
              <p>
                Key: <code data-testid="totp-secret">{started.data.startTotp.secret}</code>
              </p>
              <p>
                <a href={started.data.startTotp.otpauthUri ?? undefined}>Open in an authenticator app</a>
              </p>
              <Field label="Code from the app">
                <input
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9]{6}"
                  required
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
              </Field>
              {confirmed.error && <ErrorMessage error={confirmed.error} />}
              <UserErrors errors={confirmed.data?.confirmTotp.userErrors} />
              <button type="submit">Turn on</button>
            </form>
          ) : (
            <>
              <p>Off. With it on, signing in also needs a code from an authenticator app.</p>
              {started.error && <ErrorMessage error={started.error} />}
              <UserErrors errors={started.data?.startTotp.userErrors} />
              <button type="button" onClick={() => start({})}>
                Set up two-factor authentication
              </button>
            </>
          )
        }
      </Query>
    </section>
  );
}
