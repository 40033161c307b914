/**
 * The app shell: who is signed in decides between the sign-in page and the signed-in app; the
 * signed-in app gets one `VideoGenerationProvider` (one Realtime subscription) per user, the
 * header, the page for the current hash route, and job feedback (toasts, notification, title).
 */
import type { Session, SupabaseClient } from "@supabase/supabase-js";
import { useCallback, useEffect, useRef } from "react";
import { AppHeader, PublicHeader } from "./components/header.tsx";
import { useJobFeedback } from "./components/job_feedback.ts";
import { TimelineProvider } from "./components/job_timeline.tsx";
import { ToastProvider } from "./components/toasts.tsx";
import { VideoGenerationProvider } from "./hooks/use_video_generation.ts";
import { AccountPage } from "./pages/account_page.tsx";
import { AdminPage } from "./pages/admin_page.tsx";
import { CreatePage } from "./pages/create_page.tsx";
import { GeneratePage } from "./pages/generate_page.tsx";
import { LibraryPage } from "./pages/library_page.tsx";
import { SignInPage } from "./pages/sign_in_page.tsx";
import type { Route } from "./router.ts";
import { useSession } from "./session.ts";
import { useRoute } from "./use_route.ts";

/**
 * Moves keyboard focus to the new page's heading after navigation, so keyboard and screen-reader
 * users start at the top of what changed (not on the first load: the page starts at the top).
 */
function usePageFocus(key: string) {
  const heading = useRef<HTMLHeadingElement | null>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [key]);
  return useCallback((el: HTMLHeadingElement | null) => {
    heading.current = el;
  }, []);
}

function SignedIn(props: { supabase: SupabaseClient; session: Session; route: Route }) {
  useJobFeedback();
  const headingRef = usePageFocus(props.route);
  const anonymous = props.session.user.is_anonymous === true;
  // Shows the Admin tab; the admin-queue function and SQL enforce the role themselves.
  const admin = props.session.user.app_metadata?.role === "admin";
  return (
    <TimelineProvider supabase={props.supabase}>
      <AppHeader route={props.route} anonymous={anonymous} admin={admin} />
      <main id="main" className="main">
        {props.route === "generate" && <GeneratePage headingRef={headingRef} />}
        {props.route === "create" && (
          <CreatePage
            supabase={props.supabase}
            userId={props.session.user.id}
            headingRef={headingRef}
          />
        )}
        {props.route === "library" && <LibraryPage headingRef={headingRef} />}
        {props.route === "account" && (
          <AccountPage supabase={props.supabase} session={props.session} headingRef={headingRef} />
        )}
        {props.route === "admin" && <AdminPage supabase={props.supabase} headingRef={headingRef} />}
      </main>
    </TimelineProvider>
  );
}

function SignedOut(props: { supabase: SupabaseClient }) {
  const headingRef = usePageFocus("signin");
  return (
    <>
      <PublicHeader />
      <main id="main" className="main">
        <SignInPage supabase={props.supabase} headingRef={headingRef} />
      </main>
    </>
  );
}

/** The whole app for one Supabase client. */
export function App(props: { supabase: SupabaseClient }) {
  const { ready, session } = useSession(props.supabase);
  const route = useRoute();
  return (
    <ToastProvider>
      {!ready ? <p className="splash" role="status">Loading…</p> : session
        ? (
          <VideoGenerationProvider
            key={session.user.id}
            supabase={props.supabase}
            userId={session.user.id}
          >
            <SignedIn supabase={props.supabase} session={session} route={route} />
          </VideoGenerationProvider>
        )
        : <SignedOut supabase={props.supabase} />}
    </ToastProvider>
  );
}
