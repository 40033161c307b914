/**
 * Fakes for handler unit tests: a job store whose methods record their calls and answer from
 * the given overrides (anything not overridden throws, so a test notices an unexpected call), a
 * fixed authenticator and a waitUntil that collects background work.
 */
import type { Authenticate } from "../auth.ts";
import { AppError } from "../errors.ts";
import type { JobRow, Jobs, PublicJob } from "../jobs.ts";
import type { Model, ModelCatalog } from "../models.ts";

export const USER_ID = "00000000-0000-4000-8000-000000000001";
export const OTHER_ID = "00000000-0000-4000-8000-000000000002";

export function fakeJobs(
  overrides: Partial<Jobs>,
): { jobs: Jobs; calls: Record<string, unknown[][]> } {
  const calls: Record<string, unknown[][]> = {};
  const jobs = new Proxy({} as Jobs, {
    get(_t, name: string) {
      return (...args: unknown[]) => {
        (calls[name] ??= []).push(args);
        const impl = (overrides as Record<string, (...a: unknown[]) => unknown>)[name];
        if (!impl) throw new Error(`unexpected call jobs.${name}`);
        return impl(...args);
      };
    },
  });
  return { jobs, calls };
}

export const authenticateAs = (id = USER_ID): Authenticate => (req) => {
  if (!req.headers.get("authorization")) {
    return Promise.reject(new AppError("unauthorized", "Sign in first."));
  }
  return Promise.resolve({ id, claims: { sub: id, role: "authenticated" }, isAnonymous: true });
};

export function collectWaitUntil() {
  const pending: Promise<unknown>[] = [];
  return {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    settle: () => Promise.all(pending),
    pending,
  };
}

export const MINIMAX: Model = {
  id: "minimax-video-01",
  endpoint_id: "fal-ai/minimax/video-01",
  kind: "video",
  title: "MiniMax Video-01",
  input_schema: { type: "object", properties: { prompt: { type: "string", maxLength: 2000 } } },
  cost_base: 10,
  cost_per_second: 0,
  default_duration: 6,
  durations: [6],
  aspect_ratios: [],
  expected_seconds: 240,
  timeout_seconds: 1200,
  accepts_image: false,
  enabled: true,
};

export const KLING: Model = {
  ...MINIMAX,
  id: "kling-2.1",
  endpoint_id: "fal-ai/kling-video/v2.1/master/text-to-video",
  title: "Kling 2.1",
  input_schema: {
    type: "object",
    properties: {
      prompt: { type: "string" },
      duration: { type: "string", enum: ["5", "10"] },
      aspect_ratio: { type: "string", enum: ["16:9", "9:16", "1:1"] },
    },
  },
  cost_base: 0,
  cost_per_second: 3,
  default_duration: 5,
  durations: [5, 10],
  aspect_ratios: ["16:9", "9:16", "1:1"],
};

export function fakeCatalog(models: Model[] = [MINIMAX, KLING]): ModelCatalog {
  return {
    list: () => Promise.resolve(models),
    get: (id) => Promise.resolve(models.find((m) => m.id === id) ?? null),
    defaultFor: (kind) => Promise.resolve(models.find((m) => m.kind === kind) ?? null),
  };
}

export function jobRow(over: Partial<JobRow> = {}): JobRow {
  return {
    id: "10000000-0000-4000-8000-000000000001",
    user_id: USER_ID,
    kind: "video",
    model: MINIMAX.id,
    input: { prompt: "a cat" },
    status: "submitted",
    version: 3,
    attempts: 1,
    max_attempts: 3,
    dispatch_seq: 1,
    cost: 10,
    provider_request_id: "req-1",
    cancel_requested_at: null,
    storage_path: null,
    result: null,
    parent_id: null,
    created_at: "2026-11-28T00:00:00Z",
    submitted_at: "2026-11-28T00:00:01Z",
    ...over,
  };
}

export function publicJob(row: JobRow): PublicJob {
  return { id: row.id, status: row.status, video_url: null, version: row.version };
}

export const silentLog = () => {};
