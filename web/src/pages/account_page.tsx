/**
 * Account: anonymous users "save your account" (the same user gets an email and password, so
 * jobs and credits stay theirs); everyone can sign out.
 */
import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { type FormEvent, useState } from "react";
import { EmailPasswordFields } from "../components/email_password_fields.tsx";
import { useToast } from "../components/toasts.tsx";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Shown to signed-in users: save an anonymous account, or sign out. */
export function AccountPage(props: {
  supabase: SupabaseClient;
  session: Session;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const { supabase, session } = props;
  const user = session.user;
  const anonymous = user.is_anonymous === true;
  const toast = useToast();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSave(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await supabase.auth.updateUser({ email, password });
      if (error) throw error;
      if (data.user?.is_anonymous) {
        toast({
          kind: "info",
          title: "Almost there",
          body: "Confirm the email we sent you to finish saving your account.",
        });
      } else {
        toast({ kind: "success", title: "Account saved", body: "Your videos are kept." });
        // The session's user is only refreshed on the next token refresh; get it now.
        await supabase.auth.refreshSession();
      }
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="page narrow" aria-labelledby="account-title">
      <h1 id="account-title" tabIndex={-1} ref={props.headingRef}>Account</h1>
      {anonymous
        ? (
          <form className="panel" onSubmit={onSave} aria-labelledby="save-title">
            <h2 id="save-title">Save your account</h2>
            <p className="hint">
              You are using a guest account. Add an email and password to keep your videos and
              credits and to sign in from other devices.
            </p>
            <EmailPasswordFields
              email={email}
              password={password}
              onEmail={setEmail}
              onPassword={setPassword}
              newPassword
            />
            {error && <p className="inline-error" role="alert">{error}</p>}
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Saving…" : "Save account"}
            </button>
          </form>
        )
        : (
          <div className="panel">
            <p>
              Signed in as <strong data-testid="account-email">{user.email}</strong>
            </p>
          </div>
        )}
      <div className="panel">
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void supabase.auth.signOut()}
        >
          Sign out
        </button>
        {anonymous && (
          <p className="hint">
            Signing out of a guest account you have not saved loses its videos.
          </p>
        )}
      </div>
    </section>
  );
}
