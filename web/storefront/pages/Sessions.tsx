// Where the customer is signed in: each sign-in that can still go on, this device marked. Ending
// another device's session signs it out at its next request; "everywhere" ends this one too.
import { useLocation } from "wouter";
import { useMutation } from "urql";
import { RevokeAllSessionsDocument, RevokeSessionDocument, type AccountQuery } from "../../shared/generated/graphql";
import { formatDate } from "../../shared/format";
import { useSession } from "../../shared/provider";
import { ErrorMessage, UserErrors } from "../../shared/ui";

type SessionItem = NonNullable<AccountQuery["me"]>["sessions"][number];

export function Sessions({ sessions, onChange }: { sessions: readonly SessionItem[]; onChange: () => void }) {
  const { store } = useSession();
  const [, navigate] = useLocation();
  const [revoked, revoke] = useMutation(RevokeSessionDocument);
  const [everywhere, revokeAll] = useMutation(RevokeAllSessionsDocument);
  return (
    <section aria-labelledby="sessions">
      <h2 id="sessions">Signed-in devices</h2>
      <ul>
        {sessions.map((s) => (
          <li key={s.id}>
            Signed in {formatDate(s.startedAt)}, last active {formatDate(s.lastUsedAt)}
            {s.current ? (
              <strong> (this device)</strong>
            ) : (
              <>
                {" "}
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Sign out the device signed in ${formatDate(s.startedAt)}`}
                  onClick={async () => {
                    const answer = await revoke({ input: { id: s.id } });
                    if (answer.data?.revokeSession.success) onChange();
                  }}
                >
                  Sign out
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {revoked.error && <ErrorMessage error={revoked.error} />}
      <UserErrors errors={revoked.data?.revokeSession.userErrors} />
      {everywhere.error && <ErrorMessage error={everywhere.error} />}
      <button
        type="button"
        className="secondary"
        onClick={async () => {
          const answer = await revokeAll({});
          if (answer.data?.revokeAllSessions.success) {
            store.signOut();
            navigate("/signin");
          }
        }}
      >
        Sign out everywhere
      </button>
    </section>
  );
}
