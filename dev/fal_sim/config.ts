/**
 * The fal simulator's settings: what every knob means, their defaults, how they merge, and how the
 * dev stack sets them from environment variables. Shared by the server, its control API and the
 * typed control client that tests use.
 */

/** What an endpoint produces; decides its output shape, its required inputs and its media. */
export type EndpointKind = "video" | "image" | "audio" | "compose";

/**
 * How a failing attempt fails, using fal's request error types. Only the 503/504 kinds are
 * retried by fal (up to 10 attempts, unless `X-Fal-No-Retry`); the others end the request.
 */
export type FailureType =
  | "runner_server_error"
  | "runner_disconnected"
  | "runner_scheduling_failure"
  | "request_timeout"
  | "internal_error";

/** Per-endpoint behaviour. Unset fields fall back to `defaults`, then to the kind's defaults. */
export interface EndpointSettings {
  /** Overrides the kind guessed from the endpoint id. */
  kind?: EndpointKind;
  /** How long one attempt runs once it leaves the queue (real milliseconds, not scaled). */
  durationMs?: number;
  /** Probability (0..1) that an attempt fails with `failureType`. */
  errorRate?: number;
  failureType?: FailureType;
  /** Results point at media URLs that answer 404. */
  missingMedia?: boolean;
  /**
   * Results point at media URLs that serve something else than the generated file, to prove
   * what is stored is decided by the bytes: `body: "html"` serves a small HTML page instead of
   * the file, `contentType` is the type announced (in the result and the response), `extension`
   * the one the URL ends with. `null` turns it off.
   */
  servedMedia?: ServedMedia | null;
  /** A cancel of a running request is acknowledged but the request completes normally anyway. */
  completeDespiteCancel?: boolean;
}

/** What the `servedMedia` knob serves at a result's media URL. */
export interface ServedMedia {
  body?: "file" | "html";
  contentType?: string;
  extension?: string;
}

/** Faults applied to webhook deliveries (all off by default). */
export interface WebhookFaults {
  /** Probability (0..1) that a webhook is never sent. */
  dropRate: number;
  /** Milliseconds to hold each webhook before its first delivery attempt (not scaled). */
  delayMs: number;
  /** Extra copies of each webhook, each delivered (and retried) independently. */
  duplicates: number;
  /** When > 1, webhooks are held until this many are pending, then sent newest first. */
  reorderWindow: number;
  /** Sign with a key that is not in the JWKS. */
  wrongKey: boolean;
  /** Send `payload: null` with `payload_error`, as fal does when it cannot serialise a payload. */
  payloadError: boolean;
  /**
   * Sign as this fal user id (`X-Fal-Webhook-User-Id`) instead of the simulator's own: webhooks
   * of another fal account (null: the simulator's).
   */
  userId: string | null;
}

/** Everything the control API can read and change. */
export interface SimSettings {
  /** Requests running at once across all endpoints (fal's per-account limit; new accounts: 2). */
  concurrency: number;
  /**
   * Divides fal's own clocks: webhook retry backoff (10 retries over ~2 h), the 15 s delivery
   * timeout, the `X-Fal-Request-Timeout` start timeout and SSE keep-alives.
   */
  timeScale: number;
  defaults: EndpointSettings;
  /** Keyed by the exact endpoint id (`fal-ai/flux/dev`). */
  endpoints: Record<string, EndpointSettings>;
  webhooks: WebhookFaults;
}

/** A partial update of the settings, as accepted by `PATCH /_sim/settings`. */
export interface SettingsPatch {
  concurrency?: number;
  timeScale?: number;
  defaults?: EndpointSettings;
  /** `null` removes an endpoint's overrides. */
  endpoints?: Record<string, EndpointSettings | null>;
  webhooks?: Partial<WebhookFaults>;
}

/** The resolved behaviour of one endpoint. */
export type ResolvedEndpoint = Required<Omit<EndpointSettings, "kind" | "servedMedia">> & {
  kind: EndpointKind;
  servedMedia: ServedMedia | null;
};

/** Dev-friendly run times per kind; tests set their own milliseconds. */
export const KIND_DURATION_MS: Record<EndpointKind, number> = {
  video: 8000,
  image: 2000,
  audio: 1500,
  compose: 1000,
};

export const NO_WEBHOOK_FAULTS: WebhookFaults = {
  dropRate: 0,
  delayMs: 0,
  duplicates: 0,
  reorderWindow: 0,
  wrongKey: false,
  payloadError: false,
  userId: null,
};

/** Fresh default settings (a new object each call). */
export function defaultSettings(): SimSettings {
  return {
    concurrency: 2,
    timeScale: 1,
    defaults: {},
    endpoints: {},
    webhooks: { ...NO_WEBHOOK_FAULTS },
  };
}

/** Applies a patch, validating ranges; throws `RangeError` with a readable message. */
export function applyPatch(base: SimSettings, patch: SettingsPatch): SimSettings {
  const next: SimSettings = structuredClone(base);
  if (patch.concurrency !== undefined) {
    next.concurrency = positiveInt(patch.concurrency, "concurrency");
  }
  if (patch.timeScale !== undefined) {
    if (!(patch.timeScale > 0)) throw new RangeError("timeScale must be > 0");
    next.timeScale = patch.timeScale;
  }
  if (patch.defaults) next.defaults = { ...next.defaults, ...checkEndpoint(patch.defaults) };
  for (const [id, s] of Object.entries(patch.endpoints ?? {})) {
    if (s === null) delete next.endpoints[id];
    else next.endpoints[id] = { ...next.endpoints[id], ...checkEndpoint(s) };
  }
  if (patch.webhooks) {
    const w = { ...next.webhooks, ...patch.webhooks };
    rate(w.dropRate, "webhooks.dropRate");
    nonNegative(w.delayMs, "webhooks.delayMs");
    w.duplicates = nonNegativeInt(w.duplicates, "webhooks.duplicates");
    w.reorderWindow = nonNegativeInt(w.reorderWindow, "webhooks.reorderWindow");
    if (w.userId !== null && (typeof w.userId !== "string" || w.userId === "")) {
      throw new RangeError("webhooks.userId must be a non-empty string or null");
    }
    next.webhooks = w;
  }
  return next;
}

/** The behaviour of `endpointId`, given the kind guessed from its id. */
export function resolveEndpoint(
  settings: SimSettings,
  endpointId: string,
  guessedKind: EndpointKind,
): ResolvedEndpoint {
  const own = settings.endpoints[endpointId] ?? {};
  const kind = own.kind ?? settings.defaults.kind ?? guessedKind;
  const merged = { ...settings.defaults, ...own };
  return {
    kind,
    durationMs: merged.durationMs ?? KIND_DURATION_MS[kind],
    errorRate: merged.errorRate ?? 0,
    failureType: merged.failureType ?? "runner_server_error",
    missingMedia: merged.missingMedia ?? false,
    servedMedia: merged.servedMedia ?? null,
    completeDespiteCancel: merged.completeDespiteCancel ?? false,
  };
}

/**
 * Initial settings from environment variables, for `deno task dev`:
 * `FAL_SIM_CONCURRENCY`, `FAL_SIM_TIME_SCALE`, `FAL_SIM_DURATION_MS` (every endpoint),
 * `FAL_SIM_ERROR_RATE`, `FAL_SIM_WEBHOOK_DROP_RATE`, `FAL_SIM_WEBHOOK_DELAY_MS`,
 * `FAL_SIM_WEBHOOK_DUPLICATES`.
 */
export function settingsFromEnv(env: { get(name: string): string | undefined }): SettingsPatch {
  const num = (name: string): number | undefined => {
    const raw = env.get(name);
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new RangeError(`${name} must be a number, got ${raw}`);
    return n;
  };
  const patch: SettingsPatch = {};
  const concurrency = num("FAL_SIM_CONCURRENCY");
  if (concurrency !== undefined) patch.concurrency = concurrency;
  const timeScale = num("FAL_SIM_TIME_SCALE");
  if (timeScale !== undefined) patch.timeScale = timeScale;
  const defaults: EndpointSettings = {};
  const duration = num("FAL_SIM_DURATION_MS");
  if (duration !== undefined) defaults.durationMs = duration;
  const errorRate = num("FAL_SIM_ERROR_RATE");
  if (errorRate !== undefined) defaults.errorRate = errorRate;
  if (Object.keys(defaults).length) patch.defaults = defaults;
  const webhooks: Partial<WebhookFaults> = {};
  const drop = num("FAL_SIM_WEBHOOK_DROP_RATE");
  if (drop !== undefined) webhooks.dropRate = drop;
  const delay = num("FAL_SIM_WEBHOOK_DELAY_MS");
  if (delay !== undefined) webhooks.delayMs = delay;
  const dups = num("FAL_SIM_WEBHOOK_DUPLICATES");
  if (dups !== undefined) webhooks.duplicates = dups;
  if (Object.keys(webhooks).length) patch.webhooks = webhooks;
  return patch;
}

function checkEndpoint(s: EndpointSettings): EndpointSettings {
  const out: EndpointSettings = {};
  if (s.kind !== undefined) {
    if (!["video", "image", "audio", "compose"].includes(s.kind)) {
      throw new RangeError(`unknown kind ${s.kind}`);
    }
    out.kind = s.kind;
  }
  if (s.durationMs !== undefined) out.durationMs = nonNegative(s.durationMs, "durationMs");
  if (s.errorRate !== undefined) out.errorRate = rate(s.errorRate, "errorRate");
  if (s.failureType !== undefined) {
    if (!(s.failureType in FAILURES)) throw new RangeError(`unknown failureType ${s.failureType}`);
    out.failureType = s.failureType;
  }
  if (s.missingMedia !== undefined) out.missingMedia = Boolean(s.missingMedia);
  if (s.servedMedia !== undefined) out.servedMedia = checkServedMedia(s.servedMedia);
  if (s.completeDespiteCancel !== undefined) {
    out.completeDespiteCancel = Boolean(s.completeDespiteCancel);
  }
  return out;
}

function checkServedMedia(s: ServedMedia | null): ServedMedia | null {
  if (s === null) return null;
  if (s.body !== undefined && s.body !== "file" && s.body !== "html") {
    throw new RangeError("servedMedia.body must be file or html");
  }
  if (s.contentType !== undefined && !/^[\w.+-]+\/[\w.+-]+$/.test(s.contentType)) {
    throw new RangeError("servedMedia.contentType must be a media type");
  }
  if (s.extension !== undefined && !/^[a-z0-9]{1,8}$/i.test(s.extension)) {
    throw new RangeError("servedMedia.extension must be 1-8 letters or digits");
  }
  return { body: s.body, contentType: s.contentType, extension: s.extension };
}

/** HTTP status, message and whether fal retries it, per failure type (fal's documented table). */
export const FAILURES: Record<FailureType, { status: number; detail: string; retried: boolean }> = {
  runner_server_error: {
    status: 500,
    detail: "The runner encountered an internal server error.",
    retried: false,
  },
  internal_error: { status: 500, detail: "An unexpected internal error occurred.", retried: false },
  runner_disconnected: {
    status: 503,
    detail: "The runner disconnected unexpectedly during processing.",
    retried: true,
  },
  runner_scheduling_failure: {
    status: 503,
    detail: "No runner could be allocated to handle the request.",
    retried: true,
  },
  request_timeout: {
    status: 504,
    detail: "The request exceeded the allowed processing time.",
    retried: true,
  },
};

function rate(v: number, name: string): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new RangeError(`${name} must be 0..1`);
  return v;
}
function nonNegative(v: number, name: string): number {
  if (typeof v !== "number" || !(v >= 0)) throw new RangeError(`${name} must be >= 0`);
  return v;
}
function nonNegativeInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0`);
  return v;
}
function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be an integer >= 1`);
  return v;
}
