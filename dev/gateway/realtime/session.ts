/**
 * One client WebSocket speaking Supabase Realtime's Phoenix protocol: heartbeats, channel
 * join/leave/close with `join_ref` echoed, `access_token` refreshes (no reply; read permission
 * re-checked; on loss a `system` error and the channel closes), and client broadcasts with `self`
 * and `ack` (private channels check "may send" lazily on the first one). Messages for one topic
 * are handled in order, as a Phoenix channel process would; different topics run concurrently.
 */
import { AuthorizationUnavailableError, type Authorizer } from "./authorizer.ts";
import {
  type BroadcastMessage,
  decodeFrame,
  encodeFrame,
  type InboundFrame,
  type OutboundFrame,
  type Vsn,
} from "./frames.ts";
import type { Hub, HubMember, Subscriber } from "./hub.ts";
import { checkToken, type Claims, type VerifyToken } from "./tokens.ts";

/** What a session needs from the server. */
export interface SessionDeps {
  hub: Hub;
  authorizer: Authorizer;
  verifyToken: VerifyToken;
  log: (line: string) => void;
  /** Supabase waits before refusing a join (CHANNEL_ERROR_BACKOFF_MS) to slow rejoin storms. */
  joinErrorBackoffMs: number;
  /** Supabase's per-connection channel limit. */
  maxChannelsPerClient: number;
  /** Milliseconds since the epoch (injected so tests could fix the clock). */
  now: () => number;
}

/** A joined channel of this session. */
interface Channel extends HubMember {
  joinRef: string | null;
  self: boolean;
  ack: boolean;
  token: string;
  role: string;
  claims: Claims;
  /** Lazily checked on the first broadcast of a private channel; reset by a new token. */
  canWrite: boolean | undefined;
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  closed: boolean;
}

/** Reason prefix and text of a refused join, as Supabase words it. */
const UNAUTHORIZED = (topic: string) =>
  `You do not have permissions to read from this Channel topic: ${topic}`;

/** The protocol state of one WebSocket. */
export class Session implements Subscriber {
  readonly vsn: Vsn;
  /** Last time the client sent anything (for the idle sweep). */
  lastSeen: number;
  #socket: WebSocket;
  #deps: SessionDeps;
  #apiKey: string;
  #headers: Record<string, string>;
  #ready: Promise<boolean>;
  #channels = new Map<string, Channel>();
  #queues = new Map<string, Promise<void>>();
  #closed = false;
  #abort = new AbortController();

  constructor(opts: {
    socket: WebSocket;
    vsn: Vsn;
    apiKey: string;
    headers: Record<string, string>;
    deps: SessionDeps;
  }) {
    this.vsn = opts.vsn;
    this.#socket = opts.socket;
    this.#deps = opts.deps;
    this.#apiKey = opts.apiKey;
    this.#headers = opts.headers;
    this.lastSeen = opts.deps.now();
    // Supabase refuses the connection itself when the API key is not valid. The upgrade has
    // already happened by the time an async check can finish, so the socket is closed instead,
    // and frames that arrive meanwhile wait for the verdict.
    this.#ready = opts.deps.verifyToken(opts.apiKey).then(
      (claims) => claims !== null,
      () => false,
    ).then((ok) => {
      if (!ok) this.close(1000, "invalid apikey");
      return ok;
    });
  }

  /** Whether the socket is finished (closed by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one frame if the socket is still open. */
  send(frame: string | Uint8Array): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    try {
      this.#socket.send(frame);
    } catch (e) {
      this.#deps.log(`realtime: send failed: ${e}`);
    }
  }

  /** Handles one frame from the client. */
  receive(data: string | ArrayBuffer): void {
    this.lastSeen = this.#deps.now();
    void this.#ready.then((ok) => {
      if (!ok || this.#closed) return;
      const frame = decodeFrame(this.vsn, data);
      if (!frame) {
        this.#deps.log("realtime: ignored a malformed frame");
        return;
      }
      this.#dispatch(frame);
    });
  }

  /** Closes the socket (if open) and releases every channel. */
  close(code = 1000, reason = ""): void {
    const socket = this.#socket;
    const closeNow = () => {
      try {
        socket.close(code, reason);
      } catch { /* already closing */ }
    };
    if (socket.readyState === WebSocket.OPEN) closeNow();
    // The upgrade completes after the handler returns: a verdict may come before the socket opens.
    else if (socket.readyState === WebSocket.CONNECTING) {
      socket.addEventListener("open", closeNow, { once: true });
    }
    this.dispose();
  }

  /** Releases every channel; called when the socket is gone. */
  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    for (const channel of this.#channels.values()) this.#release(channel);
    this.#channels.clear();
  }

  /** Resolves when every queued message of this session has been handled. */
  async settled(): Promise<void> {
    while (this.#queues.size > 0) await Promise.allSettled([...this.#queues.values()]);
  }

  #dispatch(frame: InboundFrame): void {
    if (frame.topic === "phoenix" && frame.event === "heartbeat") {
      this.#reply(frame, "ok", {});
      return;
    }
    if (frame.event === "phx_join") {
      this.#enqueue(frame.topic, () => this.#join(frame));
      return;
    }
    if (!this.#channels.has(frame.topic) && !this.#queues.has(frame.topic)) {
      this.#reply(frame, "error", { reason: "unmatched topic" });
      return;
    }
    this.#enqueue(frame.topic, async () => {
      const channel = this.#channels.get(frame.topic);
      if (!channel) return this.#reply(frame, "error", { reason: "unmatched topic" });
      switch (frame.event) {
        case "phx_leave":
          return this.#leave(channel, frame);
        case "access_token":
          return await this.#refreshToken(channel, frame);
        case "broadcast":
          return await this.#broadcast(channel, frame);
        case "presence":
          return this.#reply(frame, "error", {
            reason: "Presence is not supported by the local stack",
          });
        default:
          // Supabase ignores unexpected client events (it only logs them).
          this.#deps.log(`realtime: unexpected event "${frame.event}" on ${frame.topic}`);
      }
    });
  }

  #enqueue(topic: string, task: () => Promise<void> | void): void {
    const previous = this.#queues.get(topic) ?? Promise.resolve();
    const next: Promise<void> = previous.then(async () => {
      if (!this.#closed) await task();
    }).catch((e) => this.#deps.log(`realtime: ${topic}: ${e}`)).finally(() => {
      if (this.#queues.get(topic) === next) this.#queues.delete(topic);
    });
    this.#queues.set(topic, next);
  }

  #push(frame: OutboundFrame): void {
    this.send(encodeFrame(this.vsn, frame));
  }

  #reply(to: InboundFrame, status: "ok" | "error", response: unknown): void {
    this.#push({
      joinRef: to.joinRef,
      ref: to.ref,
      topic: to.topic,
      event: "phx_reply",
      payload: { status, response },
    });
  }

  async #refuseJoin(frame: InboundFrame, code: string, message: string): Promise<void> {
    await this.#sleep(this.#deps.joinErrorBackoffMs);
    if (!this.#closed) this.#reply(frame, "error", { reason: `${code}: ${message}` });
  }

  async #join(frame: InboundFrame): Promise<void> {
    if (!frame.topic.startsWith("realtime:")) {
      return this.#reply(frame, "error", { reason: "unmatched topic" });
    }
    const name = frame.topic.slice("realtime:".length);
    const existing = this.#channels.get(frame.topic);
    if (existing) {
      // Phoenix closes the earlier join of a topic when the same socket joins it again.
      this.#channels.delete(frame.topic);
      this.#release(existing);
      this.#pushClose(existing);
    }
    if (name === "") {
      return this.#refuseJoin(frame, "TopicNameRequired", "You must provide a topic name");
    }
    if (this.#channels.size >= this.#deps.maxChannelsPerClient) {
      return this.#refuseJoin(frame, "ChannelRateLimitReached", "Too many channels");
    }
    const params = (frame.payload ?? {}) as Record<string, unknown>;
    const config = (params.config ?? {}) as Record<string, unknown>;
    const broadcast = (config.broadcast ?? {}) as Record<string, unknown>;
    const token = typeof params.access_token === "string" ? params.access_token : this.#apiKey;
    const checked = await checkToken(token, this.#deps.verifyToken, this.#deps.now() / 1000);
    if (!checked.ok) return this.#refuseJoin(frame, checked.code, checked.message);

    const channel: Channel = {
      topic: frame.topic,
      name,
      isPrivate: config.private === true,
      subscriber: this,
      joinRef: frame.joinRef ?? frame.ref,
      self: broadcast.self === true,
      ack: broadcast.ack === true,
      token,
      role: checked.role,
      claims: checked.claims,
      canWrite: undefined,
      expiryTimer: undefined,
      closed: false,
    };
    if (channel.isPrivate) {
      const refusal = await this.#readRefusal(channel);
      if (refusal) return this.#refuseJoin(frame, refusal.code, refusal.message);
    }
    if (this.#closed) return;
    if (Array.isArray(config.postgres_changes) && config.postgres_changes.length > 0) {
      this.#deps.log(`realtime: postgres_changes are not supported; ${frame.topic} gets none`);
    }
    this.#channels.set(frame.topic, channel);
    this.#deps.hub.add(channel);
    this.#scheduleExpiry(channel, checked.exp);
    this.#reply(frame, "ok", { postgres_changes: [] });
  }

  /** `null` when the channel's user may read it, else why not. */
  async #readRefusal(channel: Channel): Promise<{ code: string; message: string } | null> {
    try {
      const allowed = await this.#deps.authorizer.canRead(this.#authContext(channel));
      return allowed ? null : { code: "Unauthorized", message: UNAUTHORIZED(channel.name) };
    } catch (e) {
      if (!(e instanceof AuthorizationUnavailableError)) throw e;
      this.#deps.log(`realtime: ${e.message}`);
      return {
        code: "UnableToConnectToProject",
        message: "Realtime was unable to connect to the project database",
      };
    }
  }

  #authContext(channel: Channel) {
    return {
      topic: channel.name,
      role: channel.role,
      claims: channel.claims,
      headers: this.#headers,
    };
  }

  #leave(channel: Channel, frame: InboundFrame): void {
    this.#channels.delete(channel.topic);
    this.#release(channel);
    this.#reply(frame, "ok", {});
    this.#pushClose(channel);
  }

  #pushClose(channel: Channel): void {
    this.#push({
      joinRef: channel.joinRef,
      ref: channel.joinRef,
      topic: channel.topic,
      event: "phx_close",
      payload: {},
    });
  }

  /** Ends a channel from the server side: a `system` error, then `phx_close`. */
  #shutdown(channel: Channel, message: string): void {
    if (channel.closed || this.#channels.get(channel.topic) !== channel) return;
    this.#push({
      joinRef: channel.joinRef,
      ref: null,
      topic: channel.topic,
      event: "system",
      payload: { extension: "system", status: "error", message, channel: channel.name },
    });
    this.#channels.delete(channel.topic);
    this.#release(channel);
    this.#pushClose(channel);
  }

  #release(channel: Channel): void {
    channel.closed = true;
    clearTimeout(channel.expiryTimer);
    this.#deps.hub.remove(channel);
  }

  /** Supabase closes a channel when its token expires (unless a fresh one arrived first). */
  #scheduleExpiry(channel: Channel, exp: number | null): void {
    clearTimeout(channel.expiryTimer);
    channel.expiryTimer = undefined;
    if (exp === null) return;
    const ms = Math.min(exp * 1000 - this.#deps.now(), 2 ** 31 - 1);
    channel.expiryTimer = setTimeout(() => {
      this.#enqueue(
        channel.topic,
        () => this.#shutdown(channel, "Token has expired 0 seconds ago"),
      );
    }, Math.max(0, ms));
  }

  async #refreshToken(channel: Channel, frame: InboundFrame): Promise<void> {
    const token = (frame.payload as Record<string, unknown> | null)?.access_token;
    // No reply, ever: realtime-js does not wait for one. Same or missing token: nothing to do.
    if (typeof token !== "string" || token === channel.token) return;
    const checked = await checkToken(token, this.#deps.verifyToken, this.#deps.now() / 1000);
    if (!checked.ok) return this.#shutdown(channel, checked.message);
    channel.token = token;
    channel.role = checked.role;
    channel.claims = checked.claims;
    channel.canWrite = undefined;
    if (channel.isPrivate) {
      const refusal = await this.#readRefusal(channel);
      if (refusal) return this.#shutdown(channel, refusal.message);
    }
    if (!channel.closed) this.#scheduleExpiry(channel, checked.exp);
  }

  async #broadcast(channel: Channel, frame: InboundFrame): Promise<void> {
    const message: BroadcastMessage | undefined = frame.broadcast;
    if (!message) return; // not `{type:"broadcast", event, payload}`: nothing to relay
    if (channel.isPrivate) {
      if (channel.canWrite === undefined) {
        try {
          channel.canWrite = await this.#deps.authorizer.canWrite(this.#authContext(channel));
        } catch (e) {
          this.#deps.log(`realtime: ${e}`);
          return;
        }
      }
      // Refused broadcasts are dropped silently (and not acknowledged), as on Supabase.
      if (!channel.canWrite || channel.closed) return;
    }
    this.#deps.hub.deliver(
      channel.name,
      channel.isPrivate,
      message,
      channel.self ? undefined : channel,
    );
    if (channel.ack) this.#reply(frame, "ok", {});
  }

  /** A delay that ends early (and quietly) when the session closes. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#abort.signal;
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}
