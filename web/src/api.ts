/**
 * Typed calls to Vidqueue's edge functions through supabase-js `functions.invoke`, with every
 * failure turned into one `ApiError` carrying the stable code from `{"error":{"code","message"}}`,
 * the HTTP status and, for 429, the Retry-After seconds. Nothing here polls: each method is one
 * request made because the user or a (re)subscribe asked for it.
 */
import type { GenerateOptions, Job, JobsPage, Model } from "./types.ts";

/** The slice of `SupabaseClient["functions"]` we use (tests pass a fake). */
export interface FunctionsInvoker {
  invoke(
    name: string,
    options?: {
      body?: Record<string, unknown>;
      method?: "GET" | "POST";
      headers?: Record<string, string>;
    },
  ): Promise<{ data: unknown; error: unknown; response?: Response }>;
}

/** A failed API call, as the UI needs it. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    /** Stable error code (`insufficient_credits`, `rate_limited`, …, or `network`). */
    readonly code: string,
    message: string,
    /** HTTP status, 0 when the request never got an answer. */
    readonly status: number,
    /** Seconds to wait before retrying, from Retry-After. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: "The request was not valid.",
  401: "Your session has expired. Sign in again.",
  402: "Not enough credits for this video.",
  404: "That job no longer exists.",
  429: "Too many requests. Try again in a moment.",
};

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return "invalid_input";
    case 401:
      return "unauthorized";
    case 402:
      return "insufficient_credits";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 429:
      return "rate_limited";
    default:
      return "server_error";
  }
}

/** The Response behind a supabase-js functions error (`FunctionsHttpError.context`), if any. */
function responseOf(error: unknown, response?: Response): Response | null {
  const context = (error as { context?: unknown } | null)?.context;
  if (context instanceof Response) return context;
  return response ?? null;
}

/** Turns whatever `functions.invoke` reported into an ApiError. */
export async function toApiError(error: unknown, response?: Response): Promise<ApiError> {
  const res = responseOf(error, response);
  if (!res) {
    const message = error instanceof Error && error.message
      ? error.message
      : "Could not reach the server.";
    return new ApiError("network", `Could not reach the server: ${message}`, 0);
  }
  let body: unknown = null;
  try {
    body = await res.clone().json();
  } catch {
    // Not JSON (a proxy's HTML page, say): fall back to the status.
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof err?.code === "string" ? err.code : codeForStatus(res.status);
  const message = typeof err?.message === "string"
    ? err.message
    : FALLBACK_MESSAGES[res.status] ?? `The server answered ${res.status}.`;
  const retryHeader = res.headers.get("retry-after");
  const retryAfter = retryHeader !== null && Number.isFinite(Number(retryHeader))
    ? Number(retryHeader)
    : null;
  return new ApiError(code, message, res.status, retryAfter);
}

/** Typed API over an invoker. */
export function createApi(functions: FunctionsInvoker) {
  async function call<T>(
    name: string,
    options: NonNullable<Parameters<FunctionsInvoker["invoke"]>[1]>,
  ): Promise<T> {
    let result: Awaited<ReturnType<FunctionsInvoker["invoke"]>>;
    try {
      result = await functions.invoke(name, options);
    } catch (e) {
      throw await toApiError(e);
    }
    if (result.error) throw await toApiError(result.error, result.response);
    if (result.data === null || typeof result.data !== "object") {
      throw new ApiError("bad_response", `Unexpected answer from ${name.split("?")[0]}.`, 200);
    }
    return result.data as T;
  }

  return {
    /** Starts a job: 202 `{job}`. */
    async generate(options: GenerateOptions): Promise<Job> {
      const headers: Record<string, string> = {};
      if (options.idempotency_key) headers["Idempotency-Key"] = options.idempotency_key;
      const { job } = await call<{ job: Job }>("generate-video", {
        method: "POST",
        body: { ...options },
        headers,
      });
      return job;
    },
    /** The snapshot: the newest jobs and the balance. `cursor` pages to older jobs. */
    async listJobs(cursor?: string): Promise<JobsPage> {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
      const page = await call<JobsPage>(`video-jobs${query}`, { method: "GET" });
      return {
        jobs: page.jobs ?? [],
        credits: page.credits,
        next_cursor: page.next_cursor ?? null,
      };
    },
    /** One job, with a fresh signed `video_url` when completed. */
    async getJob(id: string): Promise<Job> {
      const { job } = await call<{ job: Job }>(`video-jobs?id=${encodeURIComponent(id)}`, {
        method: "GET",
      });
      return job;
    },
    /**
     * Cancel, retry (a new job) or delete. Retrying a batch or story answers `{parent, jobs}`:
     * the new parent is returned, and its children arrive as Realtime events like any job.
     */
    async act(action: "cancel" | "retry" | "delete", id: string): Promise<Job> {
      const answer = await call<{ job?: Job; parent?: Job }>("video-jobs", {
        method: "POST",
        body: { action, id },
      });
      const job = answer.job ?? answer.parent;
      if (!job) throw new Error(`video-jobs ${action} answered without a job`);
      return job;
    },
    /** The model catalog. */
    async listModels(): Promise<Model[]> {
      const { models } = await call<{ models: Model[] }>("video-jobs?models=1", { method: "GET" });
      return models ?? [];
    },
  };
}

/** The API as the store uses it. */
export type VidqueueApi = ReturnType<typeof createApi>;
