/** Test helper: builds contract-shaped jobs with sensible defaults for the hook's unit tests. */
import type { Job } from "../types.ts";

let counter = 0;

/** A queued job created at `created_at` (default: a fixed instant plus a counter). */
export function makeJob(overrides: Partial<Job> = {}): Job {
  counter++;
  const created = overrides.created_at ??
    new Date(Date.UTC(2025, 0, 1, 12, 0, 0) + counter * 1000).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    kind: "video",
    status: "queued",
    progress: null,
    model: "sim-fast",
    prompt: "a cat surfing",
    parent_id: null,
    credits_cost: 10,
    version: 1,
    video_url: null,
    error: null,
    created_at: created,
    updated_at: created,
    submitted_at: null,
    started_at: null,
    completed_at: null,
    expected_seconds: 60,
    queue_position: null,
    ...overrides,
  };
}
