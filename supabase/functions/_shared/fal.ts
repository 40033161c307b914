/**
 * fal.ai's queue API. Status, result and cancel go through `@fal-ai/client` (it has no base-URL
 * option, so a simulator or test fake is reached by a request middleware that rewrites
 * `https://queue.fal.run` to FAL_QUEUE_BASE_URL). Submit is one plain POST instead: the client
 * retries queue submits itself on 429/5xx whatever its `retry` option says (its submit passes
 * its own retry policy, which overrides the client's), and a retried submit whose first answer
 * was lost is a second request fal bills under a webhook URL we never heard of. Our state
 * machine is the only retry loop: each submit is a new, numbered dispatch with its own webhook
 * token, a refusal (429/5xx/unreachable) is retried on its own budget with backoff honouring
 * `Retry-After` (returned here as `retryAfterS`), and every attempt is recorded.
 */
import { createFalClient } from "@fal-ai/client";
import { parseRetryAfter } from "./backoff.ts";

export type FalQueueState = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** What we need of fal; tests pass fakes. */
export interface FalGateway {
  submit(endpointId: string, input: Record<string, unknown>, webhookUrl: string): Promise<string>;
  status(endpointId: string, requestId: string): Promise<FalQueueState>;
  /** The result payload, or a FalError when the request failed at fal. */
  result(endpointId: string, requestId: string): Promise<Record<string, unknown>>;
  cancel(endpointId: string, requestId: string): Promise<void>;
}

/** A failure talking to fal, classified for retry decisions. */
export class FalError extends Error {
  override name = "FalError";
  constructor(
    message: string,
    readonly status: number | null,
    readonly transient: boolean,
    readonly detail?: unknown,
    /** What fal's `Retry-After` asked for, in seconds (null: nothing). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Whether a failed submit was refused before fal accepted the request — 408, 429, 5xx or fal
 * unreachable — so nothing runs and nothing is billed: it is retried on the refusal budget, not
 * counted as an attempt. (A 2xx whose answer we could not read is not a refusal: fal may have
 * accepted it.)
 */
export function isSubmitRefusal(err: FalError): boolean {
  const status = err.status;
  return status === null || status === 408 || status === 429 || status >= 500;
}

const FAL_QUEUE = "https://queue.fal.run";

/** Classifies anything the fal client throws: 429, 5xx and network errors are transient. */
export function toFalError(e: unknown): FalError {
  if (e instanceof FalError) return e;
  const err = e as { status?: number; message?: string; body?: unknown };
  const status = typeof err.status === "number" ? err.status : null;
  const transient = status === null || status === 408 || status === 429 || status >= 500;
  const body = err.body as { detail?: unknown } | undefined;
  const detail = body?.detail ?? body;
  const message = typeof detail === "string" && !detail.trimStart().startsWith("<")
    ? detail
    : err.message ?? (status ? `fal answered ${status}` : "fal unreachable");
  return new FalError(message, status, transient, detail);
}

/** The real gateway over @fal-ai/client. */
export function createFalGateway(
  opts: { falKey?: string; queueBaseUrl?: string; fetch?: typeof fetch },
): FalGateway {
  const base = opts.queueBaseUrl?.replace(/\/$/, "");
  const queueBase = base ?? FAL_QUEUE;
  const fetchFn = opts.fetch ?? fetch;
  const client = createFalClient({
    credentials: opts.falKey ?? "simulator",
    retry: { maxRetries: 0 },
    requestMiddleware: (request) =>
      Promise.resolve(
        base && request.url.startsWith(FAL_QUEUE)
          ? { ...request, url: base + request.url.slice(FAL_QUEUE.length) }
          : request,
      ),
  });
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw toFalError(e);
    }
  };
  return {
    submit: (endpointId, input, webhookUrl) =>
      wrap(() => submitOnce(fetchFn, queueBase, opts.falKey, endpointId, input, webhookUrl)),
    status: (endpointId, requestId) =>
      wrap(async () =>
        (await client.queue.status(endpointId, { requestId })).status as FalQueueState
      ),
    result: (endpointId, requestId) =>
      wrap(async () =>
        (await client.queue.result(endpointId, { requestId })).data as Record<string, unknown>
      ),
    cancel: (endpointId, requestId) => wrap(() => client.queue.cancel(endpointId, { requestId })),
  };
}

/** One submit, never retried here: `POST <queue>/<endpoint>?fal_webhook=…` → `{request_id}`. */
async function submitOnce(
  fetchFn: typeof fetch,
  queueBase: string,
  falKey: string | undefined,
  endpointId: string,
  input: Record<string, unknown>,
  webhookUrl: string,
): Promise<string> {
  let res: Response;
  try {
    res = await fetchFn(
      `${queueBase}/${endpointId}?fal_webhook=${encodeURIComponent(webhookUrl)}`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(falKey ? { authorization: `Key ${falKey}` } : {}),
        },
        body: JSON.stringify(input),
      },
    );
  } catch (e) {
    throw new FalError(`fal unreachable: ${(e as Error).message}`, null, true);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* fal's ingress answers some errors with HTML */ }
  if (!res.ok) {
    const err = toFalError({ status: res.status, body, message: `fal answered ${res.status}` });
    throw new FalError(
      err.message,
      err.status,
      err.transient,
      err.detail,
      parseRetryAfter(res.headers.get("retry-after"), Date.now()),
    );
  }
  const requestId = (body as { request_id?: unknown }).request_id;
  if (typeof requestId !== "string" || !requestId) {
    throw new FalError("fal's submit answer has no request_id", res.status, true);
  }
  return requestId;
}
