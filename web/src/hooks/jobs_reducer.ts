/**
 * The pure state machine behind `useVideoGeneration`: which jobs the client holds, at which
 * version, and the credit balance. Realtime events, snapshots and request answers all arrive here
 * as actions; the rules that make the view trustworthy without polling live in one place:
 *
 * - an event whose `version` is not newer than the held one is stale and dropped;
 * - a snapshot (fetched on every (re)subscribe) replaces what it covers, except jobs we already
 *   hold at a newer version, and removes jobs that vanished while we were not listening;
 * - credits follow job transitions locally (reserve, capture, release) so the balance stays right
 *   between snapshots without asking the server.
 */
import { type Credits, isActive, type Job, type JobStatus } from "../types.ts";

export interface JobsState {
  /** Held jobs by id. */
  jobs: Readonly<Record<string, Job>>;
  /** Deleted jobs and the version they were deleted at: older news about them is dropped. */
  removed: Readonly<Record<string, number>>;
  /** Null until the first snapshot arrives. */
  credits: Credits | null;
  /** True once a snapshot has been merged. */
  loaded: boolean;
  /** The snapshot request in flight, if any, with the ids that changed since it was sent. */
  pendingSnapshot: { touched: readonly string[] } | null;
  /** Cursor for older jobs beyond the newest page, when the server has more. */
  nextCursor: string | null;
  /**
   * How far the local clock runs ahead of the server's, estimated from event timestamps (the
   * smallest `now - updated_at` seen: skew plus the fastest delivery). 0 until an event arrives.
   */
  clockOffsetMs: number | null;
}

export type JobsAction =
  /** A snapshot request was sent: start recording which jobs change while it is in flight. */
  | { type: "snapshot_requested" }
  /** The snapshot answer. `complete` is false when older pages exist (`next_cursor`). */
  | {
    type: "snapshot_loaded";
    jobs: readonly Job[];
    credits: Credits;
    nextCursor: string | null;
  }
  /** The snapshot request failed; the held state stays as it was. */
  | { type: "snapshot_failed" }
  /** A Realtime `job_updated` event, received at local time `receivedAt` (ms). */
  | { type: "job_event"; job: Job; receivedAt?: number }
  /**
   * A job from a request answer (generate, get one, cancel, retry): same or newer version wins.
   * `freshUrl`: the answer was asked for because the held video URL broke, so its URL replaces
   * the held one even when both point at the same video.
   */
  | { type: "job_loaded"; job: Job; freshUrl?: boolean }
  /** An older page of jobs (user asked for more). */
  | { type: "page_loaded"; jobs: readonly Job[]; nextCursor: string | null }
  /** The job is gone (deleted here, or 404). `version`: the deletion's, when known. */
  | { type: "job_removed"; id: string; version?: number };

/** The state before anything is known. */
export const initialJobsState: JobsState = {
  jobs: {},
  removed: {},
  credits: null,
  loaded: false,
  pendingSnapshot: null,
  nextCursor: null,
  clockOffsetMs: null,
};

type Phase = "none" | "active" | "charged" | "released";

function phase(status: JobStatus | null): Phase {
  if (status === null) return "none";
  if (isActive(status)) return "active";
  return status === "completed" ? "charged" : "released";
}

/**
 * What a job in each phase has done to the balance, relative to never having existed: an active
 * job holds its cost in `reserved`, a completed one has spent it, a failed or canceled one has
 * given it back.
 */
function footprint(p: Phase, cost: number): Credits {
  switch (p) {
    case "active":
      return { available: -cost, reserved: cost };
    case "charged":
      return { available: -cost, reserved: 0 };
    case "none":
    case "released":
      return { available: 0, reserved: 0 };
  }
}

/**
 * The credits a job itself holds. A batch or story parent's `credits_cost` is the sum of its
 * children's, and each child reserves and is charged on its own: counting the parent too would
 * take the price twice.
 */
export function ownCost(job: Pick<Job, "kind" | "credits_cost">): number {
  return job.kind === "batch" || job.kind === "story" ? 0 : job.credits_cost;
}

/** The balance change when a job of `cost` moves from status `from` (null: unknown) to `to`. */
export function creditDelta(from: JobStatus | null, to: JobStatus, cost: number): Credits {
  const a = footprint(phase(from), cost);
  const b = footprint(phase(to), cost);
  return { available: b.available - a.available, reserved: b.reserved - a.reserved };
}

function addCredits(credits: Credits | null, delta: Credits): Credits | null {
  if (!credits) return null;
  return {
    available: credits.available + delta.available,
    reserved: Math.max(0, credits.reserved + delta.reserved),
  };
}

/** The URL without its query (a signed URL's token changes on every signing). */
function withoutQuery(url: string): string {
  const i = url.indexOf("?");
  return i < 0 ? url : url.slice(0, i);
}

/**
 * Combines an incoming job with the held one. Fields the sender cannot know are kept: Realtime
 * events carry no signed URL (SQL cannot sign) and no queue position (computed only when read).
 * A newly signed URL for the video we already have is not taken either (unless `freshUrl`): a new
 * `src` would reload a player someone may be watching.
 */
function mergeJob(held: Job | undefined, incoming: Job, freshUrl = false): Job {
  if (!held) return incoming;
  let video_url = incoming.video_url ??
    (incoming.status === "completed" ? held.video_url : null);
  if (
    !freshUrl && held.video_url && incoming.video_url &&
    withoutQuery(held.video_url) === withoutQuery(incoming.video_url)
  ) {
    video_url = held.video_url;
  }
  const queue_position = incoming.status === "queued"
    ? (incoming.queue_position ?? held.queue_position)
    : null;
  return { ...incoming, video_url, queue_position };
}

function touch(state: JobsState, id: string): JobsState["pendingSnapshot"] {
  const pending = state.pendingSnapshot;
  if (!pending || pending.touched.includes(id)) return pending;
  return { touched: [...pending.touched, id] };
}

/** Forgets a job, remembering the version it went at. */
function removeJob(state: JobsState, id: string, version: number): JobsState {
  const { [id]: _gone, ...jobs } = state.jobs;
  const removed = { ...state.removed, [id]: Math.max(version, state.removed[id] ?? 0) };
  return { ...state, jobs, removed };
}

/** Applies one job, newer-wins (`allowEqual` lets an answer with the same version add fields). */
function applyJob(
  state: JobsState,
  incoming: Job,
  allowEqual: boolean,
  freshUrl = false,
): JobsState {
  const held = state.jobs[incoming.id];
  if (
    held && (incoming.version < held.version || (!allowEqual && incoming.version === held.version))
  ) {
    return state;
  }
  const removedAt = state.removed[incoming.id];
  if (removedAt !== undefined && incoming.version <= removedAt) return state;
  if (incoming.deleted_at) {
    const moved = held
      ? {
        ...state,
        credits: addCredits(
          state.credits,
          creditDelta(held.status, incoming.status, ownCost(incoming)),
        ),
      }
      : state;
    return removeJob(moved, incoming.id, incoming.version);
  }
  const merged = mergeJob(held, incoming, freshUrl);
  const delta = creditDelta(held?.status ?? null, merged.status, ownCost(merged));
  return {
    ...state,
    jobs: { ...state.jobs, [merged.id]: merged },
    credits: addCredits(state.credits, delta),
    pendingSnapshot: touch(state, merged.id),
  };
}

function oldestCreatedAt(jobs: readonly Job[]): number | null {
  let oldest: number | null = null;
  for (const job of jobs) {
    const t = Date.parse(job.created_at);
    if (Number.isFinite(t) && (oldest === null || t < oldest)) oldest = t;
  }
  return oldest;
}

/**
 * Merges a snapshot. The snapshot's balance is the truth as of its read; jobs we hold at a newer
 * version (an event overtook the answer) or that appeared after the read (created while the
 * request was in flight) keep their state and re-apply their effect on that balance.
 */
function mergeSnapshot(
  state: JobsState,
  action: Extract<JobsAction, { type: "snapshot_loaded" }>,
): JobsState {
  const touched = new Set(state.pendingSnapshot?.touched ?? []);
  const inSnapshot = new Set(action.jobs.map((j) => j.id));
  // Only the newest page was read; older jobs beyond it are neither confirmed nor denied.
  const coveredFrom = action.nextCursor ? oldestCreatedAt(action.jobs) : null;
  const jobs: Record<string, Job> = {};
  let credits: Credits = { ...action.credits };
  const shift = (delta: Credits) => {
    credits = {
      available: credits.available + delta.available,
      reserved: Math.max(0, credits.reserved + delta.reserved),
    };
  };

  for (const snap of action.jobs) {
    const removedAt = state.removed[snap.id];
    if (removedAt !== undefined && snap.version <= removedAt) continue;
    const held = state.jobs[snap.id];
    if (held && held.version > snap.version) {
      jobs[snap.id] = mergeJob(snap, held);
      shift(creditDelta(snap.status, held.status, ownCost(held)));
    } else {
      jobs[snap.id] = mergeJob(held, snap);
    }
  }
  for (const held of Object.values(state.jobs)) {
    if (inSnapshot.has(held.id)) continue;
    const created = Date.parse(held.created_at);
    const beyondPage = coveredFrom !== null && created < coveredFrom;
    if (beyondPage) {
      jobs[held.id] = held;
    } else if (touched.has(held.id)) {
      // Appeared after the read: the snapshot's balance does not include it yet.
      jobs[held.id] = held;
      shift(creditDelta(null, held.status, ownCost(held)));
    }
    // Otherwise it existed before the read and is gone now: deleted elsewhere.
  }
  return {
    ...state,
    jobs,
    credits,
    loaded: true,
    pendingSnapshot: null,
    nextCursor: action.nextCursor,
  };
}

/** The reducer. Pure: same state and action, same result. */
export function jobsReducer(state: JobsState, action: JobsAction): JobsState {
  switch (action.type) {
    case "snapshot_requested":
      return { ...state, pendingSnapshot: { touched: [] } };
    case "snapshot_failed":
      return { ...state, pendingSnapshot: null };
    case "snapshot_loaded":
      return mergeSnapshot(state, action);
    case "job_event": {
      const next = applyJob(state, action.job, false);
      if (action.receivedAt === undefined) return next;
      const sample = action.receivedAt - Date.parse(action.job.updated_at);
      if (!Number.isFinite(sample)) return next;
      const clockOffsetMs = state.clockOffsetMs === null
        ? sample
        : Math.min(state.clockOffsetMs, sample);
      return clockOffsetMs === next.clockOffsetMs ? next : { ...next, clockOffsetMs };
    }
    case "job_loaded":
      return applyJob(state, action.job, true, action.freshUrl);
    case "page_loaded": {
      let next: JobsState = state;
      for (const job of action.jobs) {
        // Old jobs already count in the balance the snapshot gave us: add them without a delta.
        const held = next.jobs[job.id];
        if (held && held.version >= job.version) continue;
        const removedAt = next.removed[job.id];
        if (removedAt !== undefined && job.version <= removedAt) continue;
        next = { ...next, jobs: { ...next.jobs, [job.id]: mergeJob(held, job) } };
      }
      return { ...next, nextCursor: action.nextCursor };
    }
    case "job_removed": {
      const held = state.jobs[action.id];
      if (!held && action.version === undefined) return state;
      // Without the deletion's version, anything up to the held one is certainly older.
      return removeJob(state, action.id, action.version ?? held?.version ?? 0);
    }
  }
}

/** Held jobs, newest first (the server's order: `created_at desc, id desc`). */
export function selectJobs(state: JobsState): Job[] {
  return Object.values(state.jobs).sort((a, b) => {
    const byTime = Date.parse(b.created_at) - Date.parse(a.created_at);
    if (byTime !== 0) return byTime;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}

/** How many held jobs are still running (queued up to finalizing). */
export function selectRunningCount(state: JobsState): number {
  return Object.values(state.jobs).filter((j) => isActive(j.status)).length;
}
