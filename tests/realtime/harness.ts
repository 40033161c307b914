/**
 * A minimal stand-in for the gateway, enough to test Realtime through the unmodified supabase-js:
 * a fresh database, `createRealtime` on it, a `Deno.serve` on a free 127.0.0.1 port routing the
 * two Realtime paths, and HS256 test JWTs (anon key, user tokens) with a verifier. `restart()`
 * replaces the Realtime service behind the same port, dropping every socket, as a redeploy or a
 * network cut would.
 */
import type postgres from "postgres";
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import { createRealtime, type Realtime } from "../../dev/gateway/realtime/server.ts";
import { freshDatabase, type TestDatabase } from "../harness/db.ts";

/** JWT claims for test tokens. */
export type TestClaims = Record<string, unknown> & { role: string };

/** A running harness; dispose it to stop everything. */
export interface RealtimeHarness extends AsyncDisposable {
  /** Base URL, as `createClient` takes it. */
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  db: TestDatabase;
  /** The Realtime service currently behind the port. */
  realtime(): Realtime;
  /** Signs arbitrary claims with the test key. */
  sign(claims: TestClaims): Promise<string>;
  /** An `authenticated` user token for `sub`, valid for `ttlSeconds` (default 1 h). */
  userToken(sub: string, ttlSeconds?: number): Promise<string>;
  /**
   * A supabase-js client (cleaned up by the harness). `token()` is its access token, read on
   * every `realtime.setAuth()`; the default is the anon key, as for a signed-out user.
   */
  client(opts?: { token?: () => string; vsn?: "1.0.0" | "2.0.0" }): Promise<SupabaseClient>;
  /** Calls `realtime.send(payload, event, topic, private)` in the database, as a trigger would. */
  dbSend(
    topic: string,
    event: string,
    payload: Record<string, unknown>,
    isPrivate: boolean,
  ): Promise<void>;
  /** Closes the Realtime service (every socket drops) and starts a new one on the same port. */
  restart(): Promise<void>;
  /** Lines the service logged. */
  logs: string[];
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replaceAll("=", "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const padded = base64 + "=".repeat((4 - base64.length % 4) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function createSigner() {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  const sign = async (claims: TestClaims): Promise<string> => {
    const body = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${
      base64url(JSON.stringify(claims))
    }`;
    const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(body));
    return `${body}.${base64url(new Uint8Array(signature))}`;
  };
  const verify = async (token: string): Promise<Record<string, unknown> | null> => {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return null;
    try {
      const ok = await crypto.subtle.verify(
        "HMAC",
        key,
        fromBase64url(signature),
        encoder.encode(`${header}.${payload}`),
      );
      if (!ok) return null;
      const claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
      if (typeof claims.exp === "number" && claims.exp <= Date.now() / 1000) return null;
      return claims;
    } catch {
      return null;
    }
  };
  return { sign, verify };
}

/** Starts the harness. `joinErrorBackoffMs` defaults to 100 ms (Supabase's own test setting). */
export async function startRealtimeHarness(
  opts: { joinErrorBackoffMs?: number } = {},
): Promise<RealtimeHarness> {
  const db = await freshDatabase();
  const { sign, verify } = await createSigner();
  const logs: string[] = [];
  const start = () =>
    createRealtime({
      dbUrl: db.superuserUrl,
      verifyToken: verify,
      log: (line) => logs.push(line),
      joinErrorBackoffMs: opts.joinErrorBackoffMs ?? 100,
    });
  let realtime: Realtime | null = null;
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  const clients: SupabaseClient[] = [];
  try {
    realtime = await start();
    server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (!realtime) return new Response("restarting", { status: 503 });
      if (path === "/realtime/v1/websocket") return realtime.handleWebSocket(req);
      if (path.startsWith("/realtime/v1/api/broadcast")) return realtime.handleBroadcast(req);
      return new Response("not found", { status: 404 });
    });
  } catch (e) {
    await realtime?.close();
    await db.drop();
    throw e;
  }
  const url = `http://127.0.0.1:${server.addr.port}`;
  const farFuture = Math.floor(Date.now() / 1000) + 3600 * 24;
  const anonKey = await sign({ role: "anon", iss: "supabase-test", exp: farFuture });
  const serviceRoleKey = await sign({ role: "service_role", iss: "supabase-test", exp: farFuture });

  const dispose = async () => {
    // Dropped first, so clients do not reconnect into a closing server.
    await Promise.allSettled(clients.map((c) => c.realtime.disconnect()));
    await realtime?.close();
    realtime = null;
    await server?.shutdown();
    await db.drop();
  };

  return {
    url,
    anonKey,
    serviceRoleKey,
    db,
    logs,
    realtime: () => realtime!,
    sign,
    userToken: (sub, ttlSeconds = 3600) =>
      sign({
        sub,
        role: "authenticated",
        aud: "authenticated",
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + ttlSeconds,
      }),
    async client(clientOpts = {}) {
      const token = clientOpts.token ?? (() => anonKey);
      const client = createClient(url, anonKey, {
        accessToken: () => Promise.resolve(token()),
        realtime: clientOpts.vsn ? { vsn: clientOpts.vsn } : {},
      });
      clients.push(client);
      // The client sets its token asynchronously; a join sent before that would go out as anon.
      await client.realtime.setAuth();
      return client;
    },
    async dbSend(topic, event, payload, isPrivate) {
      await db.sql`select realtime.send(${
        db.sql.json(payload as postgres.JSONValue)
      }, ${event}, ${topic}, ${isPrivate})`;
    },
    async restart() {
      const old = realtime;
      realtime = null;
      await old?.close();
      realtime = await start();
    },
    [Symbol.asyncDispose]: dispose,
  };
}

/** How a subscription ended up. */
export interface SubscribeResult {
  status: string;
  error?: Error;
}

/** Subscribes and resolves with the first definite status (SUBSCRIBED, CHANNEL_ERROR, …). */
export function subscribe(channel: RealtimeChannel, timeoutMs = 10_000): Promise<SubscribeResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no subscribe status in ${timeoutMs} ms`)),
      timeoutMs,
    );
    let done = false;
    channel.subscribe((status, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status, error });
    });
  });
}

/** A queue of events a channel receives, to await them one by one without missing any. */
export interface EventQueue<T> {
  next(timeoutMs?: number): Promise<T>;
  /** Resolves `true` if nothing arrives within `ms` (to prove a message was not delivered). */
  none(ms: number): Promise<boolean>;
  readonly received: T[];
}

/** Creates a queue and the listener that fills it. */
export function eventQueue<T>(): { queue: EventQueue<T>; push: (value: T) => void } {
  const received: T[] = [];
  let read = 0;
  let waiter: (() => void) | null = null;
  const push = (value: T) => {
    received.push(value);
    waiter?.();
  };
  const queue: EventQueue<T> = {
    received,
    next(timeoutMs = 5_000) {
      if (read < received.length) return Promise.resolve(received[read++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`no event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = () => {
          waiter = null;
          clearTimeout(timer);
          resolve(received[read++]!);
        };
      });
    },
    none(ms) {
      const before = received.length;
      // A fixed window is the only way to show an absence; callers keep it short.
      return new Promise((resolve) => setTimeout(() => resolve(received.length === before), ms));
    },
  };
  return { queue, push };
}

/** Listens for broadcast `event` on `channel` (call before subscribing). */
export function broadcasts(
  channel: RealtimeChannel,
  event: string,
): EventQueue<{ event: string; payload: unknown; meta?: unknown }> {
  const { queue, push } = eventQueue<{ event: string; payload: unknown; meta?: unknown }>();
  channel.on(
    "broadcast",
    { event },
    (message) => push({ event: message.event, payload: message.payload, meta: message.meta }),
  );
  return queue;
}
