/**
 * The simulator's control API under `/_sim` (loopback callers with the stack's control token
 * only: a cross-site POST from a web page cannot carry an `Authorization` header without a CORS
 * preflight, which this API never grants): read and patch settings,
 * queue submit faults, list what was received, wait for a request to reach a state (so tests
 * wait for events instead of sleeping), flush held webhooks, rotate the signing key and reset.
 * `control.ts` is the typed client for it.
 */
import { applyPatch, type SettingsPatch, type SimSettings } from "./config.ts";
import type { Engine, SimRequest } from "./engine.ts";
import { json, type SubmitFault, type SubmitHold } from "./queue_api.ts";
import type { RequestRecord, SubmitRecord } from "./records.ts";
import type { WebhookSigner } from "./signing.ts";
import type { WebhookSender } from "./webhooks.ts";

export interface ControlDeps {
  getSettings: () => SimSettings;
  setSettings: (s: SimSettings) => void;
  engine: Engine;
  webhooks: WebhookSender;
  signer: WebhookSigner;
  submitFaults: SubmitFault[];
  submits: SubmitRecord[];
  submitHold: SubmitHold;
  /** Fires "change" whenever a submit record changes. */
  submitEvents: EventTarget;
  reset: () => void;
}

/** Conditions `GET /_sim/requests/<id>?until=` can wait for. */
export type WaitCondition =
  | "started"
  | "completed"
  | "cancel_requested"
  | "webhook_held"
  | "webhook_settled";

const MAX_WAIT_MS = 30_000;

/** Whether `req` carries `Authorization: Bearer <token>` (compared in constant time). */
export function controlAuthorized(req: Request, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
  const given = new TextEncoder().encode(m?.[1] ?? "");
  const want = new TextEncoder().encode(token);
  let diff = given.length ^ want.length;
  for (let i = 0; i < want.length; i++) diff |= want[i]! ^ (given[i] ?? 0);
  return token.length > 0 && diff === 0;
}

/** Handles `/_sim/…`. */
export async function handleControl(deps: ControlDeps, req: Request, url: URL): Promise<Response> {
  const path = url.pathname.replace(/^\/_sim/, "").replace(/\/+$/, "") || "/";
  const route = `${req.method} ${path}`;
  try {
    if (route === "GET /health") return json({ ok: true });
    if (route === "GET /settings") return json(deps.getSettings());
    if (route === "PATCH /settings") {
      const patch = (await req.json()) as SettingsPatch;
      deps.setSettings(applyPatch(deps.getSettings(), patch));
      return json(deps.getSettings());
    }
    if (route === "POST /submit-faults") {
      const { faults } = (await req.json()) as { faults: SubmitFault[] };
      for (const f of faults ?? []) {
        const normal = f.status === 200 && Boolean(f.hold);
        if (!Number.isInteger(f.status) || (!normal && (f.status < 400 || f.status > 599))) {
          throw new RangeError("fault status must be 4xx or 5xx (or 200 with hold)");
        }
        if (f.retryAfter !== undefined && typeof f.retryAfter !== "string") {
          throw new RangeError("retryAfter must be a string (seconds or an HTTP date)");
        }
        deps.submitFaults.push({
          status: f.status,
          accepted: Boolean(f.accepted),
          hold: Boolean(f.hold),
          ...(f.retryAfter !== undefined ? { retryAfter: f.retryAfter } : {}),
        });
      }
      return json({ pending: deps.submitFaults });
    }
    if (route === "POST /submits/release") return json({ released: deps.submitHold.release() });
    if (route === "GET /submits") return await waitForSubmits(deps, url);
    if (route === "GET /requests") {
      return json({ requests: deps.engine.list().map(toRecord) });
    }
    const one = /^\/requests\/([0-9a-f-]{36})$/.exec(path);
    if (one && req.method === "GET") return await waitFor(deps, one[1]!, url);
    if (route === "POST /webhooks/flush") {
      deps.webhooks.flush();
      return json({ ok: true });
    }
    if (route === "GET /jwks") return json(deps.signer.jwks());
    if (route === "POST /keys/rotate") {
      const body = (await req.json().catch(() => ({}))) as { keepOld?: boolean };
      await deps.signer.rotate(Boolean(body.keepOld));
      return json(deps.signer.jwks());
    }
    if (route === "POST /reset") {
      deps.reset();
      return json({ ok: true });
    }
    return json({ error: { code: "not_found", message: `no control route ${route}` } }, 404);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return json({ error: { code: "invalid_input", message } }, 400);
  }
}

/** Answers a request's record once `until` holds (408 with the record if it does not in time). */
function waitFor(deps: ControlDeps, id: string, url: URL): Promise<Response> {
  const until = (url.searchParams.get("until") ?? "") as WaitCondition | "";
  if (
    !["", "started", "completed", "cancel_requested", "webhook_held", "webhook_settled"]
      .includes(until)
  ) {
    return Promise.resolve(
      json({ error: { code: "invalid_input", message: `unknown until=${until}` } }, 400),
    );
  }
  const minDeliveries = Number(url.searchParams.get("deliveries") ?? 0);
  const timeoutMs = Math.min(MAX_WAIT_MS, Number(url.searchParams.get("timeout_ms") ?? 10_000));
  const holds = (r: SimRequest) => {
    if (r.webhook.deliveries.length < minDeliveries) return false;
    switch (until) {
      case "":
        return true;
      case "started":
        return r.status !== "IN_QUEUE";
      case "completed":
        return r.status === "COMPLETED";
      case "cancel_requested":
        return r.cancelRequested;
      case "webhook_held":
        return r.webhook.state === "held";
      case "webhook_settled":
        return ["delivered", "failed", "dropped", "none"].includes(r.webhook.state);
    }
  };
  return new Promise((resolve) => {
    const check = () => {
      const r = deps.engine.get(id);
      if (!r) return done(json({ error: { code: "not_found", message: "no such request" } }, 404));
      if (holds(r)) done(json(toRecord(r)));
    };
    const onChange = (e: Event) => {
      if ((e as CustomEvent<string>).detail === id) check();
    };
    const timer = setTimeout(() => {
      const r = deps.engine.get(id);
      done(json(r ? toRecord(r) : null, 408));
    }, timeoutMs);
    let settled = false;
    const done = (res: Response) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      deps.engine.events.removeEventListener("change", onChange);
      resolve(res);
    };
    deps.engine.events.addEventListener("change", onChange);
    check();
  });
}

/**
 * The submits received (`GET /_sim/submits`); with `?min=N`, once at least N of them were answered
 * or are held (408 with the list if that does not happen within `timeout_ms`).
 */
function waitForSubmits(deps: ControlDeps, url: URL): Promise<Response> {
  const min = Number(url.searchParams.get("min") ?? 0);
  const timeoutMs = Math.min(MAX_WAIT_MS, Number(url.searchParams.get("timeout_ms") ?? 10_000));
  const settled = () => deps.submits.filter((s) => s.answered !== 0 || s.held).length >= min;
  if (settled()) return Promise.resolve(json({ submits: deps.submits }));
  return new Promise((resolve) => {
    const onChange = () => {
      if (settled()) done(200);
    };
    const timer = setTimeout(() => done(408), timeoutMs);
    const done = (status: number) => {
      clearTimeout(timer);
      deps.submitEvents.removeEventListener("change", onChange);
      resolve(json({ submits: deps.submits }, status));
    };
    deps.submitEvents.addEventListener("change", onChange);
  });
}

/** The public record of a request (without engine internals). */
export function toRecord(r: SimRequest): RequestRecord {
  const { appRoot: _root, logs: _logs, inferenceSeconds: _s, ...record } = r;
  return structuredClone(record);
}
