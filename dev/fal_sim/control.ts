/**
 * Typed client for the fal simulator's control API (`/_sim`, loopback only, with the stack's
 * control token: `FalSimulator.controlToken`, or `falControlToken` in `.local/stack.json`). Tests
 * use it to set
 * per-endpoint durations, error rates and outputs, inject submit 429/5xx bursts and webhook faults,
 * rotate the signing key, list what the simulator received and wait for a request to reach a
 * state — the way to synchronise with the simulator without sleeping.
 */
import type { EndpointSettings, SettingsPatch, SimSettings, WebhookFaults } from "./config.ts";
import type { RequestRecord, SubmitRecord } from "./records.ts";
import type { PublicJwk } from "./signing.ts";
import type { WaitCondition } from "./control_api.ts";

export type {
  EndpointSettings,
  RequestRecord,
  SettingsPatch,
  SimSettings,
  SubmitRecord,
  WaitCondition,
  WebhookFaults,
};

/**
 * A fault for the next submit: answer `status`; with `accepted`, the request was still created.
 * `retryAfter` is sent as `Retry-After` (seconds or an HTTP date). With `hold`, the answer (a
 * fault, or with status 200 the normal one) waits until `releaseSubmits()`.
 */
export interface SubmitFaultSpec {
  status: number;
  accepted?: boolean;
  retryAfter?: string;
  hold?: boolean;
}

export interface FalSimControl {
  settings(): Promise<SimSettings>;
  patch(patch: SettingsPatch): Promise<SimSettings>;
  /** Sets (merges) one endpoint's behaviour. */
  endpoint(endpointId: string, settings: EndpointSettings): Promise<SimSettings>;
  /** Sets the behaviour of every endpoint without its own settings. */
  defaults(settings: EndpointSettings): Promise<SimSettings>;
  webhookFaults(faults: Partial<WebhookFaults>): Promise<SimSettings>;
  /** Queues answers for the next submits, in order (e.g. a 429 burst). */
  failNextSubmits(faults: SubmitFaultSpec[]): Promise<void>;
  /** Sends the answers held by `hold` faults; resolves with how many were held. */
  releaseSubmits(): Promise<number>;
  requests(): Promise<RequestRecord[]>;
  submits(): Promise<SubmitRecord[]>;
  /** The submits once at least `count` were answered or are held; rejects after `timeoutMs`. */
  waitForSubmits(count: number, opts?: { timeoutMs?: number }): Promise<SubmitRecord[]>;
  /**
   * A request's record once `until` holds (and at least `deliveries` webhook attempts were made);
   * rejects when that does not happen within `timeoutMs`.
   */
  waitFor(
    requestId: string,
    opts?: { until?: WaitCondition; deliveries?: number; timeoutMs?: number },
  ): Promise<RequestRecord>;
  /** Releases webhooks held by the reorder knob. */
  flushWebhooks(): Promise<void>;
  /** Replaces the signing key; the old key stays in the JWKS only with `keepOld`. */
  rotateKey(opts?: { keepOld?: boolean }): Promise<{ keys: PublicJwk[] }>;
  /** Forgets all requests and faults and restores the start settings (keys are kept). */
  reset(): Promise<void>;
}

/** Where a simulator's control API is and the token it wants (a `FalSimulator` is one). */
export interface FalSimControlTarget {
  controlUrl: string;
  controlToken: string;
}

/** A control client for the simulator `target` (e.g. the stack's `fal`). */
export function createFalSimControl(target: FalSimControlTarget): FalSimControl {
  const { controlUrl } = target;
  const auth = { authorization: `Bearer ${target.controlToken}` };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${controlUrl}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) {
      throw new Error(`fal-sim control ${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    }
    return data as T;
  };
  const patch = (p: SettingsPatch) => call<SimSettings>("PATCH", "/settings", p);
  return {
    settings: () => call("GET", "/settings"),
    patch,
    endpoint: (id, s) => patch({ endpoints: { [id]: s } }),
    defaults: (s) => patch({ defaults: s }),
    webhookFaults: (w) => patch({ webhooks: w }),
    async failNextSubmits(faults) {
      await call("POST", "/submit-faults", { faults });
    },
    releaseSubmits: async () =>
      (await call<{ released: number }>("POST", "/submits/release", {})).released,
    requests: async () => (await call<{ requests: RequestRecord[] }>("GET", "/requests")).requests,
    submits: async () => (await call<{ submits: SubmitRecord[] }>("GET", "/submits")).submits,
    waitForSubmits: async (count, opts = {}) =>
      (await call<{ submits: SubmitRecord[] }>(
        "GET",
        `/submits?min=${count}&timeout_ms=${opts.timeoutMs ?? 10_000}`,
      )).submits,
    async waitFor(requestId, opts = {}) {
      const q = new URLSearchParams();
      if (opts.until) q.set("until", opts.until);
      if (opts.deliveries) q.set("deliveries", String(opts.deliveries));
      q.set("timeout_ms", String(opts.timeoutMs ?? 10_000));
      const res = await fetch(`${controlUrl}/requests/${requestId}?${q}`, { headers: auth });
      const data = await res.json();
      if (res.status === 408) {
        throw new Error(
          `fal-sim: request ${requestId} did not reach ${JSON.stringify(opts)}; now ${
            JSON.stringify(data)
          }`,
        );
      }
      if (!res.ok) {
        throw new Error(`fal-sim control waitFor: ${res.status} ${JSON.stringify(data)}`);
      }
      return data as RequestRecord;
    },
    async flushWebhooks() {
      await call("POST", "/webhooks/flush", {});
    },
    rotateKey: (opts = {}) => call("POST", "/keys/rotate", opts),
    async reset() {
      await call("POST", "/reset", {});
    },
  };
}
