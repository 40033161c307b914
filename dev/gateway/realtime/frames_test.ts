/** The Phoenix frame codec against byte layouts written out by hand from realtime-js's serializer. */
import assert from "node:assert/strict";
import { decodeFrame, encodeBroadcast, encodeFrame, parseVsn, VSN_1, VSN_2 } from "./frames.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A kind-3 push exactly as realtime-js's `_encodeUserBroadcastPush` lays it out. */
function userBroadcastPush(
  fields: { joinRef: string; ref: string; topic: string; event: string; meta: string },
  encoding: 0 | 1,
  payload: Uint8Array,
): ArrayBuffer {
  const parts = [fields.joinRef, fields.ref, fields.topic, fields.event, fields.meta].map((s) =>
    encoder.encode(s)
  );
  const out = new Uint8Array(7 + parts.reduce((n, p) => n + p.length, 0) + payload.length);
  out.set([3, ...parts.map((p) => p.length), encoding]);
  let offset = 7;
  for (const part of [...parts, payload]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out.buffer;
}

Deno.test("a missing vsn means 1.0.0 and unknown versions are rejected", () => {
  assert.equal(parseVsn(null), VSN_1);
  assert.equal(parseVsn("2.0.0"), VSN_2);
  assert.equal(parseVsn("3.0.0"), null);
});

Deno.test("text frames decode as objects (vsn 1) and arrays (vsn 2)", () => {
  const v1 = decodeFrame(
    VSN_1,
    JSON.stringify({
      topic: "realtime:a",
      event: "phx_join",
      payload: {},
      ref: "1",
      join_ref: "1",
    }),
  );
  assert.deepEqual(v1, {
    joinRef: "1",
    ref: "1",
    topic: "realtime:a",
    event: "phx_join",
    payload: {},
  });
  const v2 = decodeFrame(VSN_2, JSON.stringify([null, "7", "phoenix", "heartbeat", {}]));
  assert.deepEqual(v2, {
    joinRef: null,
    ref: "7",
    topic: "phoenix",
    event: "heartbeat",
    payload: {},
  });
  assert.equal(decodeFrame(VSN_2, JSON.stringify({ topic: "x", event: "y" })), null);
  assert.equal(decodeFrame(VSN_1, "not json"), null);
  assert.equal(decodeFrame(VSN_1, new ArrayBuffer(8)), null, "vsn 1 has no binary frames");
});

Deno.test("a JSON broadcast push becomes a relayable message", () => {
  const frame = decodeFrame(
    VSN_2,
    JSON.stringify(["1", "2", "realtime:a", "broadcast", {
      type: "broadcast",
      event: "move",
      payload: { x: 1 },
    }]),
  );
  assert.deepEqual(frame?.broadcast, { event: "move", json: '{"x":1}' });
});

Deno.test("kind-3 binary pushes decode with their refs, topic, event and payload", () => {
  const fields = { joinRef: "3", ref: "9", topic: "realtime:é", event: "ping", meta: "" };
  const json = decodeFrame(VSN_2, userBroadcastPush(fields, 1, encoder.encode('{"a":"ü"}')));
  assert.deepEqual(json, {
    joinRef: "3",
    ref: "9",
    topic: "realtime:é",
    event: "broadcast",
    broadcast: { event: "ping", json: '{"a":"ü"}' },
  });
  const bytes = decodeFrame(VSN_2, userBroadcastPush(fields, 0, new Uint8Array([0, 255, 7])));
  assert.deepEqual(bytes?.broadcast, { event: "ping", binary: new Uint8Array([0, 255, 7]) });
  assert.equal(
    decodeFrame(VSN_2, userBroadcastPush(fields, 1, encoder.encode("{broken"))),
    null,
    "invalid JSON is not relayed",
  );
  assert.equal(decodeFrame(VSN_2, new Uint8Array([3, 200, 0, 0, 0, 0, 1]).buffer), null);
  assert.equal(decodeFrame(VSN_2, new Uint8Array([4, 0, 0, 0, 1]).buffer), null);
});

Deno.test("replies and pushes encode per version", () => {
  const frame = { joinRef: "1", ref: "2", topic: "realtime:a", event: "phx_reply", payload: {} };
  assert.equal(encodeFrame(VSN_2, frame), '["1","2","realtime:a","phx_reply",{}]');
  assert.deepEqual(JSON.parse(encodeFrame(VSN_1, frame)), {
    topic: "realtime:a",
    event: "phx_reply",
    payload: {},
    ref: "2",
    join_ref: "1",
  });
});

Deno.test("broadcasts to vsn 2 are kind-4 frames; to vsn 1 JSON; raw bytes only to vsn 2", () => {
  const message = { event: "e", json: '{"n":1}', meta: '{"id":"x"}' };
  const binary = encodeBroadcast(VSN_2, "realtime:t", message) as Uint8Array;
  assert.deepEqual([...binary.subarray(0, 5)], [4, 10, 1, 10, 1]);
  assert.equal(decoder.decode(binary.subarray(5)), 'realtime:te{"id":"x"}{"n":1}');
  assert.deepEqual(JSON.parse(encodeBroadcast(VSN_1, "realtime:t", message) as string), {
    topic: "realtime:t",
    event: "broadcast",
    payload: { type: "broadcast", event: "e", payload: { n: 1 }, meta: { id: "x" } },
    ref: null,
    join_ref: null,
  });
  const raw = { event: "e", binary: new Uint8Array([1, 2]) };
  assert.deepEqual([...encodeBroadcast(VSN_2, "realtime:t", raw) as Uint8Array].slice(-2), [1, 2]);
  assert.equal(encodeBroadcast(VSN_1, "realtime:t", raw), null);
});

Deno.test("a topic too long for kind 4 falls back to a JSON array frame", () => {
  const topic = `realtime:${"x".repeat(300)}`;
  const frame = encodeBroadcast(VSN_2, topic, { event: "e", json: "[1]" });
  assert.deepEqual(JSON.parse(frame as string), [null, null, topic, "broadcast", {
    type: "broadcast",
    event: "e",
    payload: [1],
  }]);
});
