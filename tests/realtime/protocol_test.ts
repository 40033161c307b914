/**
 * Wire-level details supabase-js relies on but does not expose, checked with a plain WebSocket:
 * heartbeat replies, `join_ref` echoed on replies and pushes, `phx_leave` → ok + `phx_close`,
 * "unmatched topic", a second join of a topic closing the first, broadcasts to vsn 2.0.0 as
 * binary kind-4 frames (vsn 1.0.0: JSON objects), and refusing sockets without a valid key.
 */
import assert from "node:assert/strict";
import { type RealtimeHarness, startRealtimeHarness } from "./harness.ts";

interface RawSocket extends AsyncDisposable {
  send(frame: unknown): void;
  /** The next frame: parsed JSON for text, bytes for binary. */
  next(timeoutMs?: number): Promise<unknown>;
  closed: Promise<CloseEvent>;
}

async function rawSocket(h: RealtimeHarness, vsn: string, apikey = h.anonKey): Promise<RawSocket> {
  const url = `${h.url.replace("http", "ws")}/realtime/v1/websocket?apikey=${apikey}&vsn=${vsn}`;
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const frames: unknown[] = [];
  let wake: (() => void) | null = null;
  ws.onmessage = (event) => {
    frames.push(
      typeof event.data === "string" ? JSON.parse(event.data) : new Uint8Array(event.data),
    );
    wake?.();
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("socket failed to open"));
  });
  return {
    send: (frame) => ws.send(frame instanceof Uint8Array ? frame : JSON.stringify(frame)),
    next(timeoutMs = 3_000) {
      if (frames.length > 0) return Promise.resolve(frames.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no frame")), timeoutMs);
        wake = () => {
          wake = null;
          clearTimeout(timer);
          resolve(frames.shift());
        };
      });
    },
    closed,
    async [Symbol.asyncDispose]() {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    },
  };
}

const decoder = new TextDecoder();

Deno.test("heartbeats, joins, leaves and unknown topics are answered as Phoenix does", async () => {
  await using h = await startRealtimeHarness();
  await using ws = await rawSocket(h, "2.0.0");

  ws.send([null, "1", "phoenix", "heartbeat", {}]);
  assert.deepEqual(await ws.next(), [null, "1", "phoenix", "phx_reply", {
    status: "ok",
    response: {},
  }]);

  ws.send(["2", "3", "realtime:room", "broadcast", { type: "broadcast", event: "e", payload: {} }]);
  assert.deepEqual(await ws.next(), ["2", "3", "realtime:room", "phx_reply", {
    status: "error",
    response: { reason: "unmatched topic" },
  }]);

  const config = { broadcast: { ack: false, self: false }, presence: { key: "", enabled: false } };
  ws.send(["4", "4", "realtime:room", "phx_join", { config, access_token: h.anonKey }]);
  assert.deepEqual(await ws.next(), ["4", "4", "realtime:room", "phx_reply", {
    status: "ok",
    response: { postgres_changes: [] },
  }]);

  // Joining the same topic again replaces the earlier join, which is closed first.
  ws.send(["5", "5", "realtime:room", "phx_join", { config }]);
  assert.deepEqual(await ws.next(), ["4", "4", "realtime:room", "phx_close", {}]);
  assert.deepEqual((await ws.next() as unknown[]).slice(0, 4), [
    "5",
    "5",
    "realtime:room",
    "phx_reply",
  ]);

  ws.send(["5", "6", "realtime:room", "phx_leave", {}]);
  assert.deepEqual(await ws.next(), ["5", "6", "realtime:room", "phx_reply", {
    status: "ok",
    response: {},
  }]);
  assert.deepEqual(await ws.next(), ["5", "5", "realtime:room", "phx_close", {}]);
  assert.equal(h.realtime().stats().channels, 0);
});

Deno.test("vsn 1.0.0 frames are JSON objects with the join_ref echoed", async () => {
  await using h = await startRealtimeHarness();
  await using ws = await rawSocket(h, "1.0.0");
  ws.send({
    topic: "realtime:room",
    event: "phx_join",
    payload: { config: { broadcast: { self: true, ack: true } } },
    ref: "1",
    join_ref: "1",
  });
  assert.deepEqual(await ws.next(), {
    topic: "realtime:room",
    event: "phx_reply",
    payload: { status: "ok", response: { postgres_changes: [] } },
    ref: "1",
    join_ref: "1",
  });
  ws.send({
    topic: "realtime:room",
    event: "broadcast",
    payload: { type: "broadcast", event: "e", payload: { a: 1 } },
    ref: "2",
    join_ref: "1",
  });
  assert.deepEqual(await ws.next(), {
    topic: "realtime:room",
    event: "broadcast",
    payload: { type: "broadcast", event: "e", payload: { a: 1 } },
    ref: null,
    join_ref: null,
  });
  assert.deepEqual(await ws.next(), {
    topic: "realtime:room",
    event: "phx_reply",
    payload: { status: "ok", response: {} },
    ref: "2",
    join_ref: "1",
  });
});

Deno.test("vsn 2.0.0 receives broadcasts as binary kind-4 frames, with the message id as meta", async () => {
  await using h = await startRealtimeHarness();
  await using ws = await rawSocket(h, "2.0.0");
  ws.send(["1", "1", "realtime:wire", "phx_join", { config: {} }]);
  assert.equal(((await ws.next()) as unknown[])[3], "phx_reply");

  await h.dbSend("wire", "ev", { x: "ü" }, false);
  const frame = await ws.next() as Uint8Array;
  assert.ok(frame instanceof Uint8Array, "a binary frame");
  const [kind, topicLength, eventLength, metaLength, encoding] = frame;
  assert.deepEqual([kind, topicLength, eventLength, encoding], [4, "realtime:wire".length, 2, 1]);
  let offset = 5;
  const take = (n: number) => decoder.decode(frame.subarray(offset, offset += n));
  assert.equal(take(topicLength!), "realtime:wire");
  assert.equal(take(eventLength!), "ev");
  const meta = JSON.parse(take(metaLength!));
  const payload = JSON.parse(decoder.decode(frame.subarray(offset)));
  assert.deepEqual(payload, { x: "ü", id: meta.id });
});

Deno.test("a socket without an apikey is refused, one with an invalid key is closed", async () => {
  await using h = await startRealtimeHarness();
  const response = await fetch(`${h.url}/realtime/v1/websocket?vsn=2.0.0`, {
    headers: { upgrade: "websocket", connection: "Upgrade" },
  });
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error.code, "unauthorized");

  await using ws = await rawSocket(h, "2.0.0", "not-a-key");
  ws.send(["1", "1", "realtime:room", "phx_join", { config: {} }]);
  const closed = await Promise.race([
    ws.closed,
    new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new Error("not closed")), 3_000);
      ws.closed.then(() => clearTimeout(timer));
    }),
  ]);
  assert.equal(closed.reason, "invalid apikey");
  assert.equal(h.realtime().stats().channels, 0);
});
