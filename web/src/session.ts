/**
 * The Supabase Auth session as React state. supabase-js keeps the session in localStorage and
 * refreshes it, so a reload, or coming back tomorrow, finds the same user.
 */
import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { useEffect, useState } from "react";

export interface SessionState {
  /** False until the stored session has been read. */
  ready: boolean;
  session: Session | null;
}

/** The current session, updated on sign-in, sign-out, refresh and account upgrade. */
export function useSession(supabase: SupabaseClient): SessionState {
  const [state, setState] = useState<SessionState>({ ready: false, session: null });
  useEffect(() => {
    let live = true;
    supabase.auth.getSession().then(({ data }) => {
      if (live) setState({ ready: true, session: data.session });
    }, () => live && setState({ ready: true, session: null }));
    const { data } = supabase.auth.onAuthStateChange((_event, session) => {
      if (live) setState({ ready: true, session });
    });
    return () => {
      live = false;
      data.subscription.unsubscribe();
    };
  }, [supabase]);
  return state;
}
