/**
 * The local stack's Supabase Realtime: the WebSocket endpoint (`/realtime/v1/websocket`) and the
 * REST broadcast endpoint (`/realtime/v1/api/broadcast`), wired to the project database for
 * private-channel authorisation (RLS on `realtime.messages`) and for Broadcast from Database
 * (LISTEN `realtime_messages`). The gateway routes the two paths here; it owns ports and keys.
 * Presence and Postgres Changes are not implemented.
 */
import postgres from "postgres";
import { createAuthorizer } from "./authorizer.ts";
import { createBroadcastApi } from "./broadcast_api.ts";
import { listenForDbMessages } from "./db_messages.ts";
import { parseVsn } from "./frames.ts";
import { createHub } from "./hub.ts";
import { errorResponse, xHeaders } from "./http.ts";
import { Session, type SessionDeps } from "./session.ts";
import type { Claims } from "./tokens.ts";

/** Options of {@link createRealtime}. */
export interface RealtimeOptions {
  /**
   * Superuser URL of the stack database: LISTEN `realtime_messages`, and authorisation probes
   * that insert into `realtime.messages` and then take the user's role.
   */
  dbUrl: string;
  /** JWT claims if the token is valid (user tokens, anon / service keys), else `null`. */
  verifyToken(token: string): Promise<Record<string, unknown> | null>;
  log?: (line: string) => void;
  /**
   * How long a refused join waits before its error reply. Supabase waits 5 s
   * (CHANNEL_ERROR_BACKOFF_MS) so clients that retry at once do not storm it; default 5000.
   */
  joinErrorBackoffMs?: number;
  /** Channels one socket may join (Supabase: 100). */
  maxChannelsPerClient?: number;
  /** A socket that sends nothing (not even a heartbeat) for this long is closed; default 60 s. */
  idleTimeoutMs?: number;
}

/** The running Realtime service. */
export interface Realtime {
  /** Upgrades `GET /realtime/v1/websocket?apikey=…&vsn=…`. */
  handleWebSocket(req: Request): Response;
  /** Serves `POST /realtime/v1/api/broadcast` (and `…/api/broadcast/<topic>/events/<event>`). */
  handleBroadcast(req: Request): Promise<Response>;
  /** Number of open sockets and joined channels (for health output and tests). */
  stats(): { sockets: number; channels: number };
  /** Closes every socket and the database connections. */
  close(): Promise<void>;
}

/** Starts Realtime: resolves once database messages are being listened for. */
export async function createRealtime(opts: RealtimeOptions): Promise<Realtime> {
  const log = opts.log ?? (() => {});
  const verifyToken = (token: string) => opts.verifyToken(token) as Promise<Claims | null>;
  const sql = postgres(opts.dbUrl, {
    max: 8,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: "vidqueue_realtime" },
  });
  const hub = createHub();
  const authorizer = createAuthorizer({ sql, log });
  const sessions = new Set<Session>();
  const now = () => Date.now();
  const deps: SessionDeps = {
    hub,
    authorizer,
    verifyToken,
    log,
    joinErrorBackoffMs: opts.joinErrorBackoffMs ?? 5000,
    maxChannelsPerClient: opts.maxChannelsPerClient ?? 100,
    now,
  };

  let listener;
  try {
    listener = await listenForDbMessages({
      sql,
      log,
      onMessage: (m) => hub.deliver(m.topic, m.isPrivate, m.message),
    });
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw e;
  }

  // Phoenix closes sockets that stop talking (realtime-js heartbeats every 25 s). One sweep for
  // all sockets rather than a timer reset on every frame.
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const sweep = setInterval(() => {
    const cutoff = now() - idleTimeoutMs;
    for (const session of sessions) {
      if (session.lastSeen < cutoff) session.close(1000, "heartbeat timeout");
    }
  }, Math.min(15_000, idleTimeoutMs));
  Deno.unrefTimer(sweep);

  const broadcastApi = createBroadcastApi({ hub, authorizer, verifyToken, log, now });
  let closing = false;

  return {
    handleWebSocket(req) {
      if (closing) return errorResponse(503, "unavailable", "Realtime is shutting down");
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return errorResponse(400, "invalid_input", "expected a WebSocket upgrade");
      }
      const url = new URL(req.url);
      const vsn = parseVsn(url.searchParams.get("vsn"));
      if (!vsn) return errorResponse(400, "invalid_input", "unsupported vsn");
      const apiKey = req.headers.get("x-api-key") ?? url.searchParams.get("apikey");
      if (!apiKey) return errorResponse(401, "unauthorized", "an apikey is required");

      const headers = xHeaders(req); // the request is consumed by the upgrade
      let upgraded;
      try {
        upgraded = Deno.upgradeWebSocket(req);
      } catch (e) {
        return errorResponse(400, "invalid_input", `not a valid WebSocket upgrade: ${e}`);
      }
      const { socket, response } = upgraded;
      socket.binaryType = "arraybuffer";
      const session = new Session({ socket, vsn, apiKey, headers, deps });
      sessions.add(session);
      socket.onmessage = (event) => session.receive(event.data);
      socket.onclose = () => {
        session.dispose();
        sessions.delete(session);
      };
      socket.onerror = () => {}; // onclose follows; nothing else to do
      return response;
    },
    handleBroadcast(req) {
      if (closing) return Promise.resolve(errorResponse(503, "unavailable", "shutting down"));
      return broadcastApi(req);
    },
    stats: () => ({ sockets: sessions.size, channels: hub.size() }),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweep);
      await listener.stop();
      for (const session of sessions) session.close(1000, "server shutting down");
      await Promise.allSettled([...sessions].map((s) => s.settled()));
      sessions.clear();
      await sql.end({ timeout: 5 });
    },
  };
}
