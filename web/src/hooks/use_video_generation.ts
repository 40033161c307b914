/**
 * The reusable React hooks over Vidqueue: `useVideoGeneration()` and `useJob(id)`.
 *
 * ```tsx
 * <VideoGenerationProvider supabase={supabase} userId={session.user.id}>
 *   <App />
 * </VideoGenerationProvider>
 *
 * const { generate, jobs, credits, isGenerating } = useVideoGeneration();
 * generate({ prompt }, { onComplete: (job) => play(job.video_url), onInsufficientCredits });
 * ```
 *
 * The provider owns one store per signed-in user, and so exactly one Realtime subscription
 * (private channel `jobs:<uid>`) however many components use the hooks. Live state comes from
 * events; a snapshot is read on every (re)subscribe; progress between events is estimated on a
 * local clock. Nothing polls.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import {
  createContext,
  createElement,
  type ReactNode,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import { createApi } from "../api.ts";
import { isActive, type Job, type Model } from "../types.ts";
import { selectJobs } from "./jobs_reducer.ts";
import { createJobsStore, type JobsStore } from "./jobs_store.ts";
import { elapsedSeconds, estimateProgress } from "./progress.ts";
import { createRealtimeJobSource } from "./realtime_jobs.ts";
import { useNow } from "./use_now.ts";

export type { GenerateCallbacks, GenerateResult } from "./jobs_store.ts";

const StoreContext = createContext<JobsStore | null>(null);

export interface VideoGenerationProviderProps {
  supabase: SupabaseClient;
  /** The signed-in user's id; a new id (sign-out, other account) gets a fresh store. */
  userId: string;
  children?: ReactNode;
}

/** Provides one jobs store (one Realtime subscription) for `userId` to the hooks below it. */
export function VideoGenerationProvider(props: VideoGenerationProviderProps) {
  const { supabase, userId } = props;
  const store = useMemo(
    () =>
      createJobsStore({
        api: createApi(supabase.functions),
        events: createRealtimeJobSource(supabase),
        userId,
      }),
    [supabase, userId],
  );
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  return createElement(StoreContext.Provider, { value: store }, props.children);
}

/** The store of the nearest provider (for app-level wiring such as feedback toasts). */
export function useJobsStore(): JobsStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useVideoGeneration needs a <VideoGenerationProvider> above it");
  return store;
}

function useStoreState(store: JobsStore) {
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}

/** Everything a page needs to start videos and show them. */
export function useVideoGeneration() {
  const store = useJobsStore();
  const state = useStoreState(store);
  const jobs = useMemo(() => selectJobs(state.jobs), [state.jobs]);
  const runningCount = useMemo(() => jobs.filter((j) => isActive(j.status)).length, [jobs]);
  return {
    /** Starts a job; see `GenerateCallbacks`. Resolves to `{ok, job}` or `{ok: false, error}`. */
    generate: store.generate,
    /** The user's jobs, newest first, live. */
    jobs,
    /** `{available, reserved}`, null until the first snapshot. */
    credits: state.jobs.credits,
    /** True while a request is being sent or any of the user's jobs is still running. */
    isGenerating: state.submitting > 0 || runningCount > 0,
    /** True while a generate request is in flight (disable the submit button). */
    isSubmitting: state.submitting > 0,
    runningCount,
    /** True once the first snapshot arrived. */
    loaded: state.jobs.loaded,
    /** "live" when events flow; "reconnecting" while realtime-js rejoins. */
    connection: state.connection,
    syncError: state.syncError,
    resync: store.resync,
    cancel: store.cancel,
    retry: store.retry,
    remove: store.remove,
    hasMore: state.jobs.nextCursor !== null,
    loadMore: store.loadMore,
    /** Call from `<video onError>`: fetches a fresh signed URL (signed URLs expire). */
    refreshVideoUrl: store.refreshVideoUrl,
    /** Local clock minus server clock, for `useJobProgress`. */
    clockOffsetMs: state.jobs.clockOffsetMs ?? 0,
  };
}

/** One job by id, live (fetched once if it is not among the held ones). */
export function useJob(id: string | null | undefined): Job | null {
  const store = useJobsStore();
  const state = useStoreState(store);
  const job = id ? state.jobs.jobs[id] ?? null : null;
  useEffect(() => {
    if (id && !job) store.ensureJob(id);
  }, [id, job, store, state.jobs.loaded]);
  return job;
}

/** The model catalog, loaded once per user session. */
export function useModels(): { models: Model[] | null; error: Error | null; reload(): void } {
  const store = useJobsStore();
  const state = useStoreState(store);
  const [error, setError] = useState<Error | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    store.loadModels().then(
      () => live && setError(null),
      (e: unknown) => live && setError(e instanceof Error ? e : new Error(String(e))),
    );
    return () => {
      live = false;
    };
  }, [store, attempt]);
  return { models: state.models, error, reload: () => setAttempt((n) => n + 1) };
}

/** A job's displayed progress (0–1) and times, ticking locally while it runs. */
export function useJobProgress(job: Job, clockOffsetMs = 0) {
  const running = isActive(job.status);
  const now = useNow(running);
  return {
    fraction: estimateProgress(job, now, clockOffsetMs),
    elapsedSeconds: elapsedSeconds(job, now, clockOffsetMs),
    expectedSeconds: job.expected_seconds,
  };
}
