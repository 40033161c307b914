/**
 * Sign-in: one-click anonymous "Try it", or email + password to sign in or create an account.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import { type FormEvent, useState } from "react";
import { EmailPasswordFields } from "../components/email_password_fields.tsx";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Shown when nobody is signed in. */
export function SignInPage(props: {
  supabase: SupabaseClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const { supabase } = props;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<null | "anon" | "in" | "up">(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function run(kind: "anon" | "in" | "up", fn: () => Promise<{ error: unknown }>) {
    setBusy(kind);
    setError(null);
    setNotice(null);
    try {
      const { error } = await fn();
      if (error) setError(message(error));
      else location.hash = "#/generate";
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  }

  function onSignIn(e: FormEvent) {
    e.preventDefault();
    void run("in", () => supabase.auth.signInWithPassword({ email, password }));
  }

  function onSignUp() {
    void run("up", async () => {
      const result = await supabase.auth.signUp({ email, password });
      if (!result.error && !result.data.session) {
        setNotice("Check your inbox to confirm your email, then sign in.");
      }
      return result;
    });
  }

  return (
    <section className="page narrow" aria-labelledby="signin-title">
      <h1 id="signin-title" tabIndex={-1} ref={props.headingRef}>
        Make a video from a sentence
      </h1>
      <p className="lead">
        Describe a scene, pick a model and watch it render live. No waiting on a spinner: you can
        close the tab and come back.
      </p>
      <div className="panel">
        <button
          type="button"
          className="button button-primary button-wide"
          disabled={busy !== null}
          onClick={() => void run("anon", () => supabase.auth.signInAnonymously())}
        >
          {busy === "anon" ? "Starting…" : "Try it — no account needed"}
        </button>
        <p className="hint center">
          You get free credits. Save your account later to keep your videos.
        </p>
      </div>
      <div className="divider" role="separator">
        <span>or use your account</span>
      </div>
      <form className="panel" onSubmit={onSignIn} aria-label="Sign in with email">
        <EmailPasswordFields
          email={email}
          password={password}
          onEmail={setEmail}
          onPassword={setPassword}
        />
        {error && <p className="inline-error" role="alert">{error}</p>}
        {notice && <p className="inline-notice" role="status">{notice}</p>}
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={busy !== null}>
            {busy === "in" ? "Signing in…" : "Sign in"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            disabled={busy !== null || !email || password.length < 6}
            onClick={onSignUp}
          >
            {busy === "up" ? "Creating…" : "Create account"}
          </button>
        </div>
      </form>
    </section>
  );
}
