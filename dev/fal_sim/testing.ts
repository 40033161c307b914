/**
 * Test helpers around the fal simulator: start one on a free loopback port (sharing one media
 * cache per test process, so ffmpeg runs once), a @fal-ai/client pointed at it through
 * `requestMiddleware`, and a webhook receiver that records every delivery (raw bytes and headers)
 * and lets a test wait for the n-th one instead of sleeping.
 */
import { createFalClient, type FalClient } from "@fal-ai/client";
import { createFalSimControl, type FalSimControl } from "./control.ts";
import type { SettingsPatch } from "./config.ts";
import { type FalSimulator, startFalSimulator } from "./server.ts";

let sharedDataDir: string | undefined;

/** One data dir per test process (media generated once), removed when the process exits. */
async function dataDir(): Promise<string> {
  if (!sharedDataDir) {
    sharedDataDir = await Deno.makeTempDir({ prefix: "fal-sim-test-" });
    const dir = sharedDataDir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    });
  }
  return sharedDataDir;
}

export interface SimContext {
  sim: FalSimulator;
  control: FalSimControl;
  fal: FalClient;
}

/** Runs `fn` against a fresh simulator that is stopped afterwards, even when `fn` throws. */
export async function withSimulator(
  opts: { timeScale?: number; settings?: SettingsPatch; dataDir?: string },
  fn: (ctx: SimContext) => Promise<void>,
): Promise<void> {
  const sim = await startFalSimulator({
    port: 0,
    dataDir: opts.dataDir ?? await dataDir(),
    timeScale: opts.timeScale,
    settings: opts.settings,
  });
  try {
    await fn({ sim, control: createFalSimControl(sim), fal: falClientFor(sim.url) });
  } finally {
    await sim.stop();
  }
}

/** A @fal-ai/client whose queue requests go to `baseUrl` instead of https://queue.fal.run. */
export function falClientFor(baseUrl: string): FalClient {
  return createFalClient({
    credentials: "sim-key-id:sim-key-secret",
    requestMiddleware: (request) =>
      Promise.resolve({
        ...request,
        url: request.url.replace(/^https:\/\/queue\.fal\.run/, baseUrl),
      }),
  });
}

/** One webhook delivery as the receiver saw it. */
export interface ReceivedWebhook {
  headers: Headers;
  raw: Uint8Array<ArrayBuffer>;
  body: Record<string, unknown>;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Resolves with the first `count` deliveries once they arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP server recording webhooks. `respond(n)` picks the answer to the n-th delivery
 * (0-based): a status code, or a promise (to answer late, e.g. past the delivery timeout).
 */
export function startWebhookReceiver(
  respond: (n: number) => number | Promise<number> = () => 200,
): WebhookReceiver {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  const abort = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      const n = received.length;
      received.push({
        headers: req.headers,
        raw,
        body: JSON.parse(new TextDecoder().decode(raw)),
        at: Date.now(),
      });
      for (const w of [...waiters]) w();
      const status = await respond(n);
      return new Response(status >= 200 && status < 300 ? "ok" : "nope", { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/webhook`,
    received,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(received.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`expected ${count} webhooks within ${timeoutMs} ms, got ${received.length}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      abort.abort();
      await server.finished;
    },
  };
}
