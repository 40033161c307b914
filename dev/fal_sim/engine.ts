/**
 * The simulator's queue: requests wait IN_QUEUE (normal priority ahead of low, then first come)
 * until one of `concurrency` slots frees, run IN_PROGRESS for the endpoint's duration with
 * progress logs, and end COMPLETED with an outcome. Like fal it validates input when a request
 * starts, retries attempts that fail with retryable infrastructure errors (up to 10 attempts,
 * unless `X-Fal-No-Retry`, each retry with a new gateway request id), fails requests whose start
 * timeout passes, removes queued requests on cancel and signals running ones.
 */
import { FAILURES, type ResolvedEndpoint, type SimSettings } from "./config.ts";
import type { EndpointKind } from "./config.ts";
import type { Outcome, RequestRecord } from "./records.ts";
import { validateInput } from "./validate_input.ts";

/** A log line as fal's status endpoint reports it. */
export interface RequestLog {
  message: string;
  level: "INFO" | "WARN" | "ERROR";
  source: "USER";
  timestamp: string;
}

/** A request inside the engine. */
export interface SimRequest extends RequestRecord {
  appRoot: string;
  logs: RequestLog[];
  /** Seconds the last attempt ran (fal's `metrics.inference_time`). */
  inferenceSeconds: number | null;
}

export interface SubmitParams {
  endpointId: string;
  appRoot: string;
  kind: EndpointKind;
  input: unknown;
  webhookUrl: string | null;
  priority: "normal" | "low";
  startTimeoutSeconds: number | null;
  noRetry: boolean;
  runnerHint: string | null;
  authorized: boolean;
}

export interface EngineDeps {
  settings: () => SimSettings;
  resolve: (endpointId: string, kind: EndpointKind) => ResolvedEndpoint;
  /** Makes the successful result of a request (media, compose); may answer a failure. */
  produce: (req: SimRequest, signal: AbortSignal) => Promise<Outcome>;
  /** Called once per request when it reaches COMPLETED. */
  onComplete: (req: SimRequest) => void;
  log: (line: string) => void;
}

export type CancelAnswer = "CANCELLATION_REQUESTED" | "ALREADY_COMPLETED" | "NOT_FOUND";

export interface Engine {
  submit(params: SubmitParams): SimRequest;
  get(id: string): SimRequest | undefined;
  list(): SimRequest[];
  /** Requests ahead of this one in the queue (0 = next), or null when it is not queued. */
  queuePosition(req: SimRequest): number | null;
  cancel(id: string): CancelAnswer;
  /** Fires `change` events (detail: request id) on every status, log or outcome change. */
  events: EventTarget;
  /** Emits a change for a request (used when its webhook record changes). */
  touch(id: string): void;
  /** Starts queued requests if slots are free (after the concurrency setting changed). */
  kick(): void;
  /** Forgets every request and stops their work. */
  reset(): void;
}

const MAX_ATTEMPTS = 10;

/** Creates an empty queue. */
export function createEngine(deps: EngineDeps): Engine {
  const requests = new Map<string, SimRequest>();
  const queue: SimRequest[] = [];
  const running = new Map<string, AbortController>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const events = new EventTarget();

  const emit = (id: string) => events.dispatchEvent(new CustomEvent("change", { detail: id }));
  const alive = (req: SimRequest) => requests.get(req.requestId) === req;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const addLog = (req: SimRequest, message: string, level: RequestLog["level"] = "INFO") => {
    req.logs.push({ message, level, source: "USER", timestamp: new Date().toISOString() });
  };

  function finish(req: SimRequest, outcome: Outcome) {
    if (!alive(req) || req.status === "COMPLETED") return;
    const wasRunning = running.delete(req.requestId);
    const queued = queue.indexOf(req);
    if (queued >= 0) queue.splice(queued, 1);
    req.status = "COMPLETED";
    req.completedAt = Date.now();
    req.outcome = outcome;
    addLog(req, outcome.ok ? "Request completed" : `Request failed: ${outcome.error}`);
    deps.log(`${req.requestId} ${req.endpointId} COMPLETED ${outcome.ok ? "OK" : outcome.error}`);
    emit(req.requestId);
    deps.onComplete(req);
    if (wasRunning) pump();
    // Queue positions of everyone behind it changed too.
    if (queued >= 0) { for (const q of queue) emit(q.requestId); }
  }

  function pump() {
    const limit = deps.settings().concurrency;
    while (running.size < limit && queue.length > 0) {
      const next = queue.shift()!;
      const ctrl = new AbortController();
      running.set(next.requestId, ctrl);
      void run(next, ctrl.signal).catch((e) => {
        deps.log(`${next.requestId} crashed: ${(e as Error).stack ?? e}`);
        finish(next, failure("internal_error"));
      });
    }
    for (const q of queue) emit(q.requestId);
  }

  function startTimedOut(req: SimRequest): boolean {
    if (req.startTimeoutSeconds === null) return false;
    const scale = deps.settings().timeScale;
    return Date.now() - req.submittedAt > (req.startTimeoutSeconds * 1000) / scale;
  }

  async function run(req: SimRequest, signal: AbortSignal) {
    while (alive(req) && !signal.aborted) {
      const endpoint = deps.resolve(req.endpointId, req.kind);
      req.status = "IN_PROGRESS";
      req.startedAt ??= Date.now();
      req.attempts++;
      if (req.attempts > 1) req.gatewayRequestId = crypto.randomUUID();
      addLog(req, `Attempt ${req.attempts}: runner picked up the request`);
      emit(req.requestId);

      const issues = validateInput(req.endpointId, req.kind, req.input);
      if (issues.length) {
        finish(req, {
          ok: false,
          httpStatus: 422,
          body: { detail: issues },
          error: "Invalid status code: 422",
        });
        return;
      }
      const began = Date.now();
      const finished = await wait(endpoint.durationMs, signal, (fraction) => {
        addLog(req, `Generating: ${Math.round(fraction * 100)}%`);
        emit(req.requestId);
      });
      req.inferenceSeconds = (Date.now() - began) / 1000;
      if (!alive(req)) return;
      if (!finished) {
        finish(req, cancelled());
        return;
      }
      if (Math.random() < endpoint.errorRate) {
        const f = FAILURES[endpoint.failureType];
        addLog(req, `Attempt ${req.attempts} failed: ${endpoint.failureType}`, "ERROR");
        if (f.retried && !req.noRetry && req.attempts < MAX_ATTEMPTS) {
          if (!startTimedOut(req)) continue;
          // The caller's start timeout covers fal's retries too.
          finish(req, userTimeout());
          return;
        }
        finish(req, failure(endpoint.failureType));
        return;
      }
      let outcome: Outcome;
      try {
        outcome = await deps.produce(req, signal);
      } catch (e) {
        if (!signal.aborted) throw e;
        outcome = cancelled();
      }
      // A cancel that arrived while the output was being made still stops the request.
      finish(req, signal.aborted ? cancelled() : outcome);
      return;
    }
  }

  /** Waits `ms`, reporting progress at quarters; false when aborted first. */
  function wait(
    ms: number,
    signal: AbortSignal,
    progress: (fraction: number) => void,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const mine: ReturnType<typeof setTimeout>[] = [];
      for (const f of [0.25, 0.5, 0.75]) {
        if (ms >= 40) mine.push(later(ms * f, () => progress(f)));
      }
      const done = later(ms, () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      });
      mine.push(done);
      const onAbort = () => {
        for (const t of mine) {
          clearTimeout(t);
          timers.delete(t);
        }
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  return {
    events,
    touch: emit,
    submit(p) {
      const id = crypto.randomUUID();
      const req: SimRequest = {
        requestId: id,
        gatewayRequestId: id,
        endpointId: p.endpointId,
        appRoot: p.appRoot,
        kind: p.kind,
        input: p.input,
        status: "IN_QUEUE",
        priority: p.priority,
        startTimeoutSeconds: p.startTimeoutSeconds,
        noRetry: p.noRetry,
        runnerHint: p.runnerHint,
        authorized: p.authorized,
        submittedAt: Date.now(),
        startedAt: null,
        completedAt: null,
        attempts: 0,
        cancelRequested: false,
        outcome: null,
        webhook: {
          url: p.webhookUrl,
          state: p.webhookUrl ? "pending" : "none",
          body: null,
          deliveries: [],
        },
        logs: [],
        inferenceSeconds: null,
      };
      requests.set(id, req);
      // Normal priority goes ahead of every low-priority request, otherwise first come first served.
      const at = p.priority === "low" ? queue.length : queue.findIndex((q) => q.priority === "low");
      queue.splice(at < 0 ? queue.length : at, 0, req);
      deps.log(`${id} ${p.endpointId} IN_QUEUE (${p.priority})`);
      if (p.startTimeoutSeconds !== null) {
        const ms = (p.startTimeoutSeconds * 1000) / deps.settings().timeScale;
        later(ms, () => {
          if (alive(req) && req.status === "IN_QUEUE") finish(req, userTimeout());
        });
      }
      pump();
      return req;
    },
    kick: () => pump(),
    get: (id) => requests.get(id),
    list: () => [...requests.values()],
    queuePosition(req) {
      const i = queue.indexOf(req);
      return i < 0 ? null : i;
    },
    cancel(id) {
      const req = requests.get(id);
      if (!req) return "NOT_FOUND";
      if (req.status === "COMPLETED") return "ALREADY_COMPLETED";
      req.cancelRequested = true;
      addLog(req, "Cancellation requested", "WARN");
      if (req.status === "IN_QUEUE") {
        finish(req, cancelled());
      } else if (!deps.resolve(req.endpointId, req.kind).completeDespiteCancel) {
        running.get(id)?.abort();
      } else {
        emit(id);
      }
      return "CANCELLATION_REQUESTED";
    },
    reset() {
      for (const ctrl of running.values()) ctrl.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      running.clear();
      queue.length = 0;
      requests.clear();
    },
  };
}

function failure(type: keyof typeof FAILURES): Outcome {
  const f = FAILURES[type];
  return {
    ok: false,
    httpStatus: f.status,
    body: { detail: f.detail, error_type: type },
    errorType: type,
    error: `Invalid status code: ${f.status}`,
  };
}

/** The caller's `X-Fal-Request-Timeout` passed before the request could run (or retry). */
function userTimeout(): Outcome {
  return {
    ok: false,
    httpStatus: 504,
    body: { detail: "Request timed out", error_type: "request_timeout" },
    errorType: "request_timeout",
    error: "Invalid status code: 504",
    timeoutType: "user",
  };
}

function cancelled(): Outcome {
  return {
    ok: false,
    httpStatus: 499,
    body: { detail: "The request was cancelled by the client.", error_type: "client_cancelled" },
    errorType: "client_cancelled",
    error: "Invalid status code: 499",
  };
}
