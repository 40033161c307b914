/**
 * The fal.ai simulator: the embedded default provider of the dev stack and the fal of our tests.
 * One loopback HTTP server speaks fal's queue API (reached by @fal-ai/client through a
 * `requestMiddleware` that rewrites `https://queue.fal.run` to `url`), serves the generated media
 * under `/media/…` and the webhook JWKS under `/.well-known/jwks.json`, sends Ed25519-signed
 * webhooks with fal's retry policy, and exposes the control API under `/_sim`. It answers only
 * loopback host names (DNS rebinding) and its control API only callers with the stack's control
 * token, so a web page the developer visits cannot drive it.
 */
import { applyPatch, defaultSettings, resolveEndpoint, type SettingsPatch } from "./config.ts";
import type { EndpointKind, SimSettings } from "./config.ts";
import { hostAllowed, misdirected } from "../loopback_host.ts";
import { controlAuthorized, handleControl } from "./control_api.ts";
import { createEngine } from "./engine.ts";
import { createMediaLibrary } from "./media.ts";
import { fileResponse } from "./media_http.ts";
import { createProducer } from "./outputs.ts";
import { createSubmitHold, handleQueueApi, json, type SubmitFault } from "./queue_api.ts";
import type { SubmitRecord } from "./records.ts";
import { loadSigner } from "./signing.ts";
import { createWebhookSender } from "./webhooks.ts";

export interface FalSimulatorOptions {
  /** Port on 127.0.0.1 (0 picks a free one). */
  port: number;
  /** Where generated media, compose outputs and the webhook signing key are kept. */
  dataDir: string;
  log?: (line: string) => void;
  /** Compresses fal's own clocks (webhook retry backoff and timeout, start timeouts). */
  timeScale?: number;
  /** Initial settings (e.g. from `settingsFromEnv`); `reset` returns to these. */
  settings?: SettingsPatch;
  /** The bearer token the control API requires (default: a fresh random one). */
  controlToken?: string;
  /** Address to listen on (default 127.0.0.1; `deno task sim` for Docker may widen it). */
  hostname?: string;
  /**
   * Base of every URL the simulator hands out (queue URLs, media), when callers reach it under
   * another name than `http://127.0.0.1:<port>` (e.g. `http://host.docker.internal:54323` from
   * the `supabase functions serve` container). Default: `http://127.0.0.1:<port>`.
   */
  publicUrl?: string;
}

export interface FalSimulator {
  /** What `FAL_QUEUE_BASE_URL` points at. */
  url: string;
  /** The webhook signing keys (fal's `https://rest.fal.ai/.well-known/jwks.json`). */
  jwksUrl: string;
  /** Base of the control API (see control.ts). */
  controlUrl: string;
  /** What the control API wants as `Authorization: Bearer <token>`. */
  controlToken: string;
  /** `127.0.0.1:<port>` (or publicUrl's host): the host of every media URL in results. */
  mediaHost: string;
  stop(): Promise<void>;
}

/** Starts the simulator; resolves once its media exist and it is listening. */
export async function startFalSimulator(opts: FalSimulatorOptions): Promise<FalSimulator> {
  const log = (line: string) => opts.log?.(`[fal-sim] ${line}`);
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const stopping = new AbortController();
  const media = createMediaLibrary({ dataDir: opts.dataDir, log, signal: stopping.signal });
  const [signer] = await Promise.all([loadSigner(opts.dataDir), media.init()]);

  let initial = defaultSettings();
  if (opts.timeScale !== undefined) initial = applyPatch(initial, { timeScale: opts.timeScale });
  if (opts.settings) initial = applyPatch(initial, opts.settings);
  let settings: SimSettings = structuredClone(initial);
  const resolve = (endpointId: string, kind: EndpointKind) =>
    resolveEndpoint(settings, endpointId, kind);

  const controlToken = opts.controlToken ?? randomToken();
  const publicHost = opts.publicUrl ? [new URL(opts.publicUrl).hostname] : [];
  const submitFaults: SubmitFault[] = [];
  const submits: SubmitRecord[] = [];
  const submitHold = createSubmitHold();
  const submitEvents = new EventTarget();
  const submitChanged = () => submitEvents.dispatchEvent(new Event("change"));
  const streams = new Set<() => void>();
  let baseUrl = "";

  const webhooks = createWebhookSender({
    signer,
    settings: () => settings,
    changed: (id) => engine.touch(id),
    log,
  });
  const engine = createEngine({
    settings: () => settings,
    resolve,
    produce: (req, signal) =>
      createProducer({ media, baseUrl, resolve })(req, AbortSignal.any([signal, stopping.signal])),
    onComplete: (req) => {
      if (req.webhook.url && req.outcome) {
        webhooks.send({
          requestId: req.requestId,
          gatewayRequestId: req.gatewayRequestId,
          outcome: req.outcome,
          webhook: req.webhook,
        });
      }
    },
    log,
  });

  const reset = () => {
    engine.reset();
    webhooks.reset();
    submitFaults.length = 0;
    submitHold.release();
    submits.length = 0;
    settings = structuredClone(initial);
  };

  const handler = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    // Loopback names, plus the name callers were told to use (FAL_SIM_PUBLIC_URL, for a container).
    if (!hostAllowed(req, publicHost)) return misdirected(req);
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/.well-known/jwks.json" && req.method === "GET") {
      return json(signer.jwks(), 200, { "cache-control": "public, max-age=3600" });
    }
    if (path === "/_sim" || path.startsWith("/_sim/")) {
      const host = (info.remoteAddr as Deno.NetAddr).hostname;
      if (host !== "127.0.0.1" && host !== "::1") {
        return json({ error: { code: "forbidden", message: "loopback only" } }, 403);
      }
      if (!controlAuthorized(req, controlToken)) {
        return json({
          error: { code: "forbidden", message: "the control API needs the stack's control token" },
        }, 403);
      }
      return await handleControl(
        {
          getSettings: () => settings,
          setSettings: (s) => {
            settings = s;
            engine.kick();
          },
          engine,
          webhooks,
          signer,
          submitFaults,
          submits,
          submitHold,
          submitEvents,
          reset,
        },
        req,
        url,
      );
    }
    if (path.startsWith("/media/")) return await serveMedia(req, url);
    const queue = handleQueueApi(
      {
        engine,
        baseUrl,
        resolve,
        timeScale: () => settings.timeScale,
        submitFaults,
        submits,
        hold: submitHold,
        submitChanged,
        trackStream: (close) => {
          streams.add(close);
          return () => streams.delete(close);
        },
      },
      req,
      url,
    );
    if (queue) return await queue;
    return json({ detail: "Not Found" }, 404);
  };

  async function serveMedia(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return json({ detail: "Not Found" }, 404);
    const file = /^\/media\/files\/[^/]+\/([^/]+)$/.exec(path);
    if (file) {
      const found = await media.find(file[1]!);
      if (found) return await fileResponse(req, found.path, found.contentType);
    }
    // The servedMedia knob: the generated file or an HTML page, announced as the knob says.
    const forged = /^\/media\/forged\/[^/]+\/([^/]+)\/[^/]+$/.exec(path);
    if (forged) {
      const found = await media.find(decodeURIComponent(forged[1]!));
      const type = url.searchParams.get("type");
      if (found && url.searchParams.get("body") === "html") {
        return new Response(FORGED_HTML, {
          headers: { "content-type": type ?? "text/html; charset=utf-8" },
        });
      }
      if (found) return await fileResponse(req, found.path, type ?? found.contentType);
    }
    const composed = /^\/media\/composed\/([0-9a-f-]{36})\.(mp4|png)$/.exec(path);
    if (composed) {
      const type = composed[2] === "mp4" ? "video/mp4" : "image/png";
      return await fileResponse(req, `${media.composedDir}/${composed[1]}.${composed[2]}`, type);
    }
    // Includes /media/missing/…: the "media URL 404s" knob.
    return new Response("Not Found", { status: 404 });
  }

  const server = Deno.serve({
    hostname: opts.hostname ?? "127.0.0.1",
    port: opts.port,
    onListen: () => {},
    onError: (e) => {
      log(`handler error: ${e instanceof Error ? e.stack : e}`);
      return json({ detail: "Internal Server Error" }, 500);
    },
  }, handler);
  const port = server.addr.port;
  baseUrl = opts.publicUrl?.replace(/\/$/, "") ?? `http://127.0.0.1:${port}`;
  log(`listening on ${opts.hostname ?? "127.0.0.1"}:${port} as ${baseUrl}`);

  let stopped: Promise<void> | undefined;
  return {
    url: baseUrl,
    jwksUrl: `${baseUrl}/.well-known/jwks.json`,
    controlUrl: `${baseUrl}/_sim`,
    controlToken,
    mediaHost: new URL(baseUrl).host,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        // Held submit answers would keep their connections (and the shutdown) waiting.
        submitHold.release();
        engine.reset();
        webhooks.reset();
        for (const close of [...streams]) close();
        await server.shutdown();
      })();
      return stopped;
    },
  };
}

const FORGED_HTML = "<!doctype html><title>not a video</title>" +
  "<script>document.title = document.cookie</script>\n";

function randomToken(): string {
  const raw = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}
