/**
 * The client contract's data shapes (docs/client-contract.md): what `generate-video` and
 * `video-jobs` answer and what the `job_updated` Realtime event carries. Plain types only, so the
 * pure modules (reducer, progress) and their tests stay free of React and the DOM.
 */

/** Every status a job can be in; the last three are terminal. */
export type JobStatus =
  | "queued"
  | "submitted"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "failed"
  | "canceled";

/** Statuses in which a job still holds a credit reservation and may change. */
export const ACTIVE_STATUSES: readonly JobStatus[] = [
  "queued",
  "submitted",
  "in_progress",
  "finalizing",
];

/** True while the job can still change (not completed, failed or canceled). */
export function isActive(status: JobStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** A stable error as the API reports it. */
export interface ApiErrorBody {
  code: string;
  message: string;
}

/** One job as the API and Realtime events describe it. */
/** The provider refused a job's submit: `retry_at` is when it is submitted again. */
export interface QueueReason {
  code: string;
  message: string;
  retry_at: string | null;
}

export interface Job {
  id: string;
  kind: string;
  status: JobStatus;
  /** Server-reported progress in percent (0–100), or null when the provider reports none. */
  progress: number | null;
  model: string;
  prompt: string | null;
  parent_id: string | null;
  credits_cost: number;
  /** Bumped on every change; an event not newer than the held version is stale. */
  version: number;
  /** Signed Storage URL in `video-jobs` answers once completed; null in Realtime events. */
  video_url: string | null;
  error: ApiErrorBody | null;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  expected_seconds: number | null;
  /** Computed when read (never rebroadcast), so only `video-jobs` answers carry a fresh one. */
  queue_position: number | null;
  /** Why a queued job waits to be resubmitted (the provider refused its submit); else null. */
  queue_reason?: QueueReason | null;
  /** The failed job this one retries (a user's retry creates a new job). */
  retry_of?: string | null;
  /** Set when the user asked to cancel a job that is at the provider; fal decides. */
  cancel_requested_at?: string | null;
  /** Set (in the last event about it) when the user deleted the job. */
  deleted_at?: string | null;
}

/** The user's balance: `available` may be spent, `reserved` is held by running jobs. */
export interface Credits {
  available: number;
  reserved: number;
}

/** One entry of the model catalog (`GET video-jobs?models=1`). */
export interface Model {
  id: string;
  title: string;
  kind: string;
  /** Credits for the default duration. */
  credits: number;
  /** Extra credits per second of video (0 or absent: flat price). */
  cost_per_second?: number | null;
  /** The duration `credits` is for, when the model has durations. */
  default_duration?: number | null;
  durations: number[];
  aspect_ratios: string[];
  expected_seconds: number;
  accepts_image: boolean;
}

/** What `generate-video` accepts for a single video. */
export interface GenerateOptions {
  prompt: string;
  model?: string;
  duration?: number;
  aspect_ratio?: string;
  image_path?: string;
  idempotency_key?: string;
}

/** The list answer of `GET video-jobs`. */
export interface JobsPage {
  jobs: Job[];
  credits: Credits;
  next_cursor?: string | null;
}
