/** Fan-out: by topic and privacy, without the excluded sender, one encoding per protocol version. */
import assert from "node:assert/strict";
import type { Vsn } from "./frames.ts";
import { createHub, type HubMember } from "./hub.ts";

function member(name: string, isPrivate: boolean, vsn: Vsn) {
  const frames: (string | Uint8Array)[] = [];
  const m: HubMember = {
    topic: `realtime:${name}`,
    name,
    isPrivate,
    subscriber: { vsn, send: (frame) => frames.push(frame) },
  };
  return { m, frames };
}

Deno.test("a message reaches members of its topic and privacy only, minus the sender", () => {
  const hub = createHub();
  const a = member("room", false, "1.0.0");
  const b = member("room", false, "2.0.0");
  const sender = member("room", false, "2.0.0");
  const secret = member("room", true, "2.0.0");
  const elsewhere = member("hall", false, "2.0.0");
  for (const x of [a, b, sender, secret, elsewhere]) hub.add(x.m);
  assert.equal(hub.size(), 5);

  const sent = hub.deliver("room", false, { event: "e", json: "{}" }, sender.m);
  assert.equal(sent, 2);
  assert.equal(a.frames.length, 1);
  assert.equal(b.frames.length, 1);
  assert.equal(sender.frames.length + secret.frames.length + elsewhere.frames.length, 0);

  hub.remove(a.m);
  hub.remove(a.m);
  assert.equal(hub.size(), 4);
  assert.equal(hub.deliver("room", false, { event: "e", json: "{}" }), 2);
});

Deno.test("each protocol version's frame is encoded once and shared", () => {
  const hub = createHub();
  const members = Array.from(
    { length: 6 },
    (_, i) => member("t", false, i % 2 ? "2.0.0" : "1.0.0"),
  );
  for (const x of members) hub.add(x.m);
  hub.deliver("t", false, { event: "e", json: '{"n":1}' });
  const distinct = new Set(members.map((x) => x.frames[0]));
  assert.equal(distinct.size, 2, "one frame object per version");
});
