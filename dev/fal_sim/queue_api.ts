/**
 * fal's queue HTTP API as @fal-ai/client speaks it: submit (`POST /<endpoint id>[?fal_webhook=]`),
 * status (`GET /<app root>/requests/<id>/status[?logs=1]`, 202 until COMPLETED then 200), the SSE
 * status stream (`…/status/stream`, closes after COMPLETED), result (`GET …/requests/<id>` with
 * `x-fal-request-id`; failures with their status, `detail` and `X-Fal-Error-Type`) and cancel
 * (`PUT …/requests/<id>/cancel`). Status, result and cancel live under the app root, so
 * `fal-ai/flux/dev` requests are read at `fal-ai/flux/requests/<id>`.
 */
import type { EndpointKind, ResolvedEndpoint } from "./config.ts";
import { appRoot, guessKind } from "./endpoint_id.ts";
import type { Engine, SimRequest } from "./engine.ts";
import type { SubmitRecord } from "./records.ts";

/**
 * A fault queued for the next submit: answer `status`; `accepted` also creates the request
 * (status 200: no fault, the normal answer). `retryAfter` is sent as the `Retry-After` header
 * (429s default to "1"). With `hold`, the answer waits until the control API releases held
 * submits (the request, when created, runs meanwhile): a submit whose answer is slow.
 */
export interface SubmitFault {
  status: number;
  accepted?: boolean;
  retryAfter?: string;
  hold?: boolean;
}

/** Submit answers waiting for `release()` (the `hold` fault). */
export interface SubmitHold {
  /** Resolves once the held answers are released. */
  wait(): Promise<void>;
  /** Releases every answer held so far; returns how many. */
  release(): number;
}

/** A hold that releases everything waiting at each `release()`. */
export function createSubmitHold(): SubmitHold {
  let waiting: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiting.push(resolve)),
    release() {
      const released = waiting;
      waiting = [];
      for (const resolve of released) resolve();
      return released.length;
    },
  };
}

export interface QueueApiDeps {
  engine: Engine;
  baseUrl: string;
  resolve: (endpointId: string, kind: EndpointKind) => ResolvedEndpoint;
  timeScale: () => number;
  /** Next submit faults (consumed front first). */
  submitFaults: SubmitFault[];
  submits: SubmitRecord[];
  hold: SubmitHold;
  /** Called whenever a submit record changes (for `waitForSubmits`). */
  submitChanged: () => void;
  /** Registers an open SSE stream so stopping the simulator can close it. */
  trackStream: (close: () => void) => () => void;
}

const REQUEST_PATH = /^\/(.+)\/requests\/([0-9a-f-]{36})(\/status(\/stream)?|\/cancel)?\/?$/;
const SSE_PING_MS = 15_000;

/** Handles a queue API request, or returns undefined when the path is not part of it. */
export function handleQueueApi(
  deps: QueueApiDeps,
  req: Request,
  url: URL,
): Promise<Response> | Response | undefined {
  const m = REQUEST_PATH.exec(url.pathname);
  if (m) {
    const [, root, id, suffix] = m;
    const found = deps.engine.get(id!);
    const sim = found && found.appRoot === root ? found : undefined;
    if (suffix === "/cancel") {
      if (req.method !== "PUT") return methodNotAllowed();
      return cancel(deps, sim);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed();
    if (!sim) return json({ detail: "Request not found" }, 404);
    const logs = url.searchParams.get("logs") === "1" || url.searchParams.get("logs") === "true";
    if (suffix === "/status") return json(statusBody(deps, sim, logs), statusCode(sim));
    if (suffix === "/status/stream") return stream(deps, sim, logs);
    return result(sim);
  }
  if (req.method === "POST") return submit(deps, req, url);
  return undefined;
}

async function submit(deps: QueueApiDeps, req: Request, url: URL): Promise<Response> {
  const endpointId = url.pathname.replace(/^\/+|\/+$/g, "");
  const record: SubmitRecord = {
    at: Date.now(),
    endpointId,
    answered: 0,
    requestId: null,
    held: false,
  };
  deps.submits.push(record);
  const fault = deps.submitFaults.shift();
  const answer = async (res: Response) => {
    if (fault?.hold) {
      record.held = true;
      deps.submitChanged();
      await deps.hold.wait();
      record.held = false;
    }
    record.answered = res.status;
    deps.submitChanged();
    return res;
  };
  if (fault && fault.status >= 400 && !fault.accepted) return answer(faultResponse(fault));

  const root = appRoot(endpointId);
  if (!root) return answer(json({ detail: `Application '${endpointId}' not found` }, 404));
  const timeoutHeader = req.headers.get("x-fal-request-timeout");
  let startTimeoutSeconds: number | null = null;
  if (timeoutHeader !== null) {
    startTimeoutSeconds = Number(timeoutHeader);
    if (!Number.isFinite(startTimeoutSeconds) || startTimeoutSeconds <= 1) {
      return answer(json(
        { detail: "Invalid X-Fal-Request-Timeout header", error_type: "bad_request" },
        400,
        { "x-fal-error-type": "bad_request" },
      ));
    }
  }
  const text = await req.text();
  let input: unknown = {};
  if (text.trim() !== "") {
    try {
      input = JSON.parse(text);
    } catch {
      return answer(json({
        detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }],
      }, 422));
    }
  }
  const noRetry = ["1", "true", "yes"].includes(
    (req.headers.get("x-fal-no-retry") ?? "").toLowerCase(),
  );
  const sim = deps.engine.submit({
    endpointId,
    appRoot: root,
    kind: deps.resolve(endpointId, guessKind(endpointId)).kind,
    input,
    webhookUrl: url.searchParams.get("fal_webhook"),
    priority: req.headers.get("x-fal-queue-priority") === "low" ? "low" : "normal",
    startTimeoutSeconds,
    noRetry,
    runnerHint: req.headers.get("x-fal-runner-hint"),
    authorized: /^Key \S+/.test(req.headers.get("authorization") ?? ""),
  });
  record.requestId = sim.requestId;
  // An accepted-then-failed fault models a lost answer: the request exists and will run.
  if (fault && fault.status >= 400) return answer(faultResponse(fault));
  return answer(json(
    {
      status: "IN_QUEUE",
      request_id: sim.requestId,
      gateway_request_id: sim.gatewayRequestId,
      ...urls(deps, sim),
      queue_position: deps.engine.queuePosition(sim) ?? 0,
      logs: null,
      metrics: {},
    },
    200,
    { "x-fal-request-id": sim.requestId },
  ));
}

function urls(deps: QueueApiDeps, sim: SimRequest) {
  const base = `${deps.baseUrl}/${sim.appRoot}/requests/${sim.requestId}`;
  return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
}

function statusBody(deps: QueueApiDeps, sim: SimRequest, logs: boolean) {
  const body: Record<string, unknown> = {
    status: sim.status,
    request_id: sim.requestId,
    ...urls(deps, sim),
  };
  if (sim.status === "IN_QUEUE") {
    body.queue_position = deps.engine.queuePosition(sim) ?? 0;
    return body;
  }
  body.logs = logs ? sim.logs : null;
  if (sim.status === "COMPLETED") {
    body.metrics = { inference_time: sim.inferenceSeconds };
    if (sim.outcome && !sim.outcome.ok) {
      body.error = sim.outcome.error;
      body.error_type = sim.outcome.errorType ?? null;
    }
  }
  return body;
}

function statusCode(sim: SimRequest): number {
  return sim.status === "COMPLETED" ? 200 : 202;
}

/** The SSE status stream; a client that goes away cancels the body, which cleans up. */
function stream(deps: QueueApiDeps, sim: SimRequest, logs: boolean): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let last = "";
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try {
          controller.close();
        } catch { /* already closed by the reader */ }
      };
      const push = () => {
        const data = JSON.stringify(statusBody(deps, sim, logs));
        if (data !== last) {
          last = data;
          controller.enqueue(encoder.encode(`data: ${data}\n\n`));
        }
        if (sim.status === "COMPLETED") close();
      };
      const onChange = (e: Event) => {
        if ((e as CustomEvent<string>).detail === sim.requestId) push();
      };
      const ping = setInterval(
        () => controller.enqueue(encoder.encode(": ping\n\n")),
        SSE_PING_MS / deps.timeScale(),
      );
      const untrack = deps.trackStream(close);
      cleanup = () => {
        clearInterval(ping);
        deps.engine.events.removeEventListener("change", onChange);
        untrack();
      };
      deps.engine.events.addEventListener("change", onChange);
      push();
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-fal-request-id": sim.requestId,
    },
  });
}

function result(sim: SimRequest): Response {
  const headers: Record<string, string> = { "x-fal-request-id": sim.requestId };
  if (sim.status !== "COMPLETED" || !sim.outcome) {
    return json({ detail: "Request is still in progress" }, 400, headers);
  }
  const o = sim.outcome;
  if (o.ok) return json(o.payload, 200, headers);
  if (o.errorType) headers["x-fal-error-type"] = o.errorType;
  if (o.timeoutType) headers["x-fal-request-timeout-type"] = o.timeoutType;
  headers["x-fal-retryable"] = String(o.httpStatus >= 500);
  return json(o.body, o.httpStatus, headers);
}

function cancel(deps: QueueApiDeps, sim: SimRequest | undefined): Response {
  if (!sim) return json({ status: "NOT_FOUND" }, 404);
  const answer = deps.engine.cancel(sim.requestId);
  const code = answer === "CANCELLATION_REQUESTED" ? 202 : answer === "NOT_FOUND" ? 404 : 400;
  return json({ status: answer }, code, { "x-fal-request-id": sim.requestId });
}

/** What an injected submit fault answers: 429 as JSON, 5xx as an ingress (nginx) page. */
function faultResponse(fault: SubmitFault): Response {
  const status = fault.status;
  const retryAfter: Record<string, string> = fault.retryAfter !== undefined
    ? { "retry-after": fault.retryAfter }
    : status === 429
    ? { "retry-after": "1" }
    : {};
  if (status === 429) {
    return json({ detail: "Too many requests, please retry later." }, 429, retryAfter);
  }
  if (status >= 500) {
    const reason = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }[
      status
    ] ?? "Gateway Timeout";
    return new Response(
      `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n` +
        `<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n` +
        `</body>\r\n</html>\r\n`,
      { status, headers: { "content-type": "text/html", ...retryAfter } },
    );
  }
  return json({ detail: `Simulated error ${status}` }, status, retryAfter);
}

function methodNotAllowed(): Response {
  return json({ detail: "Method Not Allowed" }, 405);
}

/** A JSON response with extra headers. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
