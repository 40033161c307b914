/**
 * The per-user jobs store behind `useVideoGeneration`: owns the single Realtime subscription, the
 * reducer state, and the few reads the no-polling design allows:
 *
 * - a snapshot (`GET video-jobs`) each time the channel reports SUBSCRIBED, i.e. on the first join
 *   and after every reconnect, so nothing missed while away stays missed;
 * - one `GET video-jobs?id=` per completed job for its signed URL (events cannot carry one), and
 *   again only when the player reports that URL failed (expired);
 * - the model catalog, once.
 *
 * Everything else arrives as events. React-free so it can be tested with fakes.
 */
import { ApiError, type VidqueueApi } from "../api.ts";
import type { GenerateOptions, Job, Model } from "../types.ts";
import { initialJobsState, type JobsAction, jobsReducer, type JobsState } from "./jobs_reducer.ts";
import type { ChannelStatus, JobEventSource } from "./realtime_jobs.ts";

/** Minimum time between two URL refreshes of one job caused by player errors. */
const URL_REFRESH_MIN_INTERVAL_MS = 60_000;

/** Whether live updates are flowing. */
export type Connection = "connecting" | "live" | "reconnecting" | "stopped";

export interface StoreState {
  jobs: JobsState;
  connection: Connection;
  /** Null until loaded. */
  models: Model[] | null;
  /** Generate requests in flight. */
  submitting: number;
  /** The last snapshot failure, cleared by the next successful one. */
  syncError: ApiError | null;
}

/** Callbacks for one `generate` call. */
export interface GenerateCallbacks {
  /** The job completed; `job.video_url` is set when the signed URL could be fetched. */
  onComplete?(job: Job): void;
  /** The request was refused (other than for credits), or the job failed or was canceled. */
  onError?(error: ApiError, job?: Job): void;
  /** 402: the balance does not cover the cost. Falls back to `onError` when not given. */
  onInsufficientCredits?(error: ApiError): void;
}

export type GenerateResult = { ok: true; job: Job } | { ok: false; error: ApiError };

export interface JobsStoreDeps {
  api: VidqueueApi;
  events: JobEventSource;
  userId: string;
  /** Local clock (ms), injected for tests. */
  now?: () => number;
  /** Makes idempotency keys; injected for tests. */
  newKey?: () => string;
}

/** A transition seen by the store: `before` undefined means the job was not held. */
export type TransitionListener = (before: Job | undefined, after: Job | undefined) => void;

/** Creates the store; call `start()` to subscribe and `stop()` to leave. */
export function createJobsStore(deps: JobsStoreDeps) {
  const now = deps.now ?? (() => Date.now());
  const newKey = deps.newKey ?? (() => crypto.randomUUID());
  let state: StoreState = {
    jobs: initialJobsState,
    connection: "connecting",
    models: null,
    submitting: 0,
    syncError: null,
  };
  const listeners = new Set<() => void>();
  const transitionListeners = new Set<TransitionListener>();
  const watchers = new Map<string, GenerateCallbacks>();
  /** Jobs fetched one by one (signed URL, deep link): asked at most once unless the URL broke. */
  const fetched = new Set<string>();
  /** Jobs whose one-by-one fetch failed: their `onComplete` fires without a URL. */
  const fetchFailed = new Set<string>();
  /** When the player last made us refresh a job's URL (local ms), to rule out request loops. */
  const urlRefreshedAt = new Map<string, number>();
  let snapshotInFlight = false;
  let snapshotAgain = false;
  let unsubscribe: (() => void) | null = null;
  let modelsPromise: Promise<Model[]> | null = null;

  function setState(patch: Partial<StoreState>) {
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  }

  function dispatch(action: JobsAction) {
    const before = state.jobs;
    const after = jobsReducer(before, action);
    if (after === before) return;
    setState({ jobs: after });
    const ids = new Set([...Object.keys(before.jobs), ...Object.keys(after.jobs)]);
    for (const id of ids) {
      const a = before.jobs[id];
      const b = after.jobs[id];
      if (a === b) continue;
      for (const listener of transitionListeners) listener(a, b);
    }
    afterChange();
  }

  /** Follow-ups that depend on the new state: signed URLs and generate callbacks. */
  function afterChange() {
    for (const job of Object.values(state.jobs.jobs)) {
      if (job.status === "completed" && !job.video_url && !fetched.has(job.id)) {
        void fetchJob(job.id);
      }
    }
    for (const [id, callbacks] of watchers) {
      const job = state.jobs.jobs[id];
      if (!job) continue;
      if (job.status === "completed" && (job.video_url || fetchFailed.has(id))) {
        watchers.delete(id);
        callbacks.onComplete?.(job);
      } else if (job.status === "failed" || job.status === "canceled") {
        watchers.delete(id);
        const error = new ApiError(
          job.error?.code ?? job.status,
          job.error?.message ??
            (job.status === "canceled" ? "The job was canceled." : "The job failed."),
          200,
        );
        callbacks.onError?.(error, job);
      }
    }
  }

  async function fetchJob(id: string, freshUrl = false) {
    fetched.add(id);
    fetchFailed.delete(id);
    try {
      const job = await deps.api.getJob(id);
      dispatch({ type: "job_loaded", job, freshUrl });
    } catch (e) {
      if (e instanceof ApiError && e.code === "not_found") {
        dispatch({ type: "job_removed", id });
      } else {
        fetchFailed.add(id);
        afterChange();
      }
    }
  }

  async function snapshot() {
    if (snapshotInFlight) {
      snapshotAgain = true;
      return;
    }
    snapshotInFlight = true;
    dispatch({ type: "snapshot_requested" });
    try {
      const page = await deps.api.listJobs();
      dispatch({
        type: "snapshot_loaded",
        jobs: page.jobs,
        credits: page.credits,
        nextCursor: page.next_cursor ?? null,
      });
      if (state.syncError) setState({ syncError: null });
    } catch (e) {
      dispatch({ type: "snapshot_failed" });
      setState({ syncError: e instanceof ApiError ? e : new ApiError("network", String(e), 0) });
    } finally {
      snapshotInFlight = false;
      if (snapshotAgain) {
        snapshotAgain = false;
        void snapshot();
      }
    }
  }

  function onStatus(status: ChannelStatus) {
    if (status === "SUBSCRIBED") {
      setState({ connection: "live" });
      void snapshot();
    } else if (status === "CLOSED") {
      if (unsubscribe) setState({ connection: "reconnecting" });
    } else {
      setState({ connection: "reconnecting" });
    }
  }

  return {
    /** The current state (a new object after every change, for `useSyncExternalStore`). */
    getState: (): StoreState => state,
    /** Calls `listener` after every change; returns the unsubscribe function. */
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Calls `listener(before, after)` for every job that changed. */
    onTransition(listener: TransitionListener): () => void {
      transitionListeners.add(listener);
      return () => transitionListeners.delete(listener);
    },
    /** Joins the user's channel; the snapshot follows on SUBSCRIBED. */
    start() {
      if (unsubscribe) return;
      setState({ connection: "connecting" });
      unsubscribe = deps.events.subscribe(deps.userId, {
        onJob: (job) => dispatch({ type: "job_event", job, receivedAt: now() }),
        onStatus,
      });
    },
    /** Leaves the channel. */
    stop() {
      const leave = unsubscribe;
      unsubscribe = null;
      leave?.();
      setState({ connection: "stopped" });
    },
    /** Fetches a snapshot now (e.g. a "try again" button after a failed sync). */
    resync: () => snapshot(),
    /** Starts a job. Never rejects: the result says whether the server accepted it. */
    async generate(
      options: GenerateOptions,
      callbacks: GenerateCallbacks = {},
    ): Promise<GenerateResult> {
      setState({ submitting: state.submitting + 1 });
      try {
        const job = await deps.api.generate({
          ...options,
          idempotency_key: options.idempotency_key ?? newKey(),
        });
        watchers.set(job.id, callbacks);
        dispatch({ type: "job_loaded", job });
        afterChange();
        return { ok: true, job };
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError("network", String(e), 0);
        // The server says our balance is wrong (spent elsewhere): re-read it once.
        if (error.code === "insufficient_credits") void snapshot();
        if (error.code === "insufficient_credits" && callbacks.onInsufficientCredits) {
          callbacks.onInsufficientCredits(error);
        } else {
          callbacks.onError?.(error);
        }
        return { ok: false, error };
      } finally {
        setState({ submitting: state.submitting - 1 });
      }
    },
    /** Asks the server to cancel a running job. */
    async cancel(id: string): Promise<void> {
      dispatch({ type: "job_loaded", job: await deps.api.act("cancel", id) });
    },
    /** Retries a failed job: the server creates a new job with its own reservation. */
    async retry(id: string): Promise<Job> {
      const job = await deps.api.act("retry", id);
      dispatch({ type: "job_loaded", job });
      return job;
    },
    /** Deletes a finished job. */
    async remove(id: string): Promise<void> {
      const job = await deps.api.act("delete", id);
      dispatch({ type: "job_removed", id, version: job?.version });
    },
    /**
     * Holds jobs a request answered with (a batch or story's parent and its children, a parent's
     * retry): same-or-newer version wins, so Realtime events that overtook the answer stay.
     */
    hold(jobs: readonly Job[]): void {
      for (const job of jobs) dispatch({ type: "job_loaded", job });
    },
    /** Loads the next older page (user-initiated). */
    async loadMore(): Promise<void> {
      const cursor = state.jobs.nextCursor;
      if (!cursor) return;
      const page = await deps.api.listJobs(cursor);
      dispatch({ type: "page_loaded", jobs: page.jobs, nextCursor: page.next_cursor ?? null });
    },
    /**
     * The player could not load `failedUrl` (signed URLs expire): fetch a fresh one. At most once
     * a minute per job, so a file the browser cannot play never turns into a request loop.
     */
    refreshVideoUrl(id: string, failedUrl: string) {
      const job = state.jobs.jobs[id];
      if (!job || job.status !== "completed" || job.video_url !== failedUrl) return;
      const last = urlRefreshedAt.get(id);
      if (last !== undefined && now() - last < URL_REFRESH_MIN_INTERVAL_MS) return;
      urlRefreshedAt.set(id, now());
      void fetchJob(id, true);
    },
    /** Fetches a job we do not hold (a deep link to an old one), once. */
    ensureJob(id: string) {
      if (state.jobs.jobs[id] || fetched.has(id) || !state.jobs.loaded) return;
      void fetchJob(id);
    },
    /** The model catalog, fetched once per store. */
    loadModels(): Promise<Model[]> {
      modelsPromise ??= deps.api.listModels().then(
        (models) => {
          setState({ models });
          return models;
        },
        (e: unknown) => {
          modelsPromise = null;
          throw e;
        },
      );
      return modelsPromise;
    },
  };
}

export type JobsStore = ReturnType<typeof createJobsStore>;
