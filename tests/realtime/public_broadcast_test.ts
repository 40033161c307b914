/**
 * Broadcast on public channels through the unmodified supabase-js: both protocol versions (vsn
 * 2.0.0 sends and receives broadcasts as binary frames, vsn 1.0.0 as JSON), `self` and `ack`,
 * and the REST endpoints a client uses before it has joined.
 */
import assert from "node:assert/strict";
import { broadcasts, startRealtimeHarness, subscribe } from "./harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "a public broadcast reaches clients of both protocol versions, from either",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const topic = `rt-public-${crypto.randomUUID()}`;
    const versions = ["1.0.0", "2.0.0"] as const;
    const listeners = [];
    for (const vsn of versions) {
      const client = await h.client({ vsn });
      const channel = client.channel(topic);
      const queue = broadcasts(channel, "greeting");
      assert.equal((await subscribe(channel)).status, "SUBSCRIBED");
      listeners.push({ vsn, queue });
    }
    for (const vsn of versions) {
      const sender = await h.client({ vsn });
      const channel = sender.channel(topic);
      const own = broadcasts(channel, "greeting");
      assert.equal((await subscribe(channel)).status, "SUBSCRIBED");
      const payload = { from: vsn, text: "héllo ✓", n: 1 };
      assert.equal(await channel.send({ type: "broadcast", event: "greeting", payload }), "ok");
      for (const listener of listeners) {
        const got = await listener.queue.next();
        assert.equal(got.event, "greeting", `${vsn} → ${listener.vsn}`);
        assert.deepEqual(got.payload, payload, `${vsn} → ${listener.vsn}`);
      }
      assert.equal(own.received.length, 0, "without `self`, the sender does not hear itself");
    }
  },
);

Deno.test(
  "with self and ack, the sender hears itself and send() resolves on the server's ack",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const topic = `rt-self-${crypto.randomUUID()}`;
    for (const vsn of ["1.0.0", "2.0.0"] as const) {
      const client = await h.client({ vsn });
      const loud = client.channel(`${topic}-${vsn}`, {
        config: { broadcast: { self: true, ack: true } },
      });
      const heard = broadcasts(loud, "ping");
      assert.equal((await subscribe(loud)).status, "SUBSCRIBED");
      const status = await loud.send({ type: "broadcast", event: "ping", payload: { vsn } }, {
        timeout: 2_000,
      });
      assert.equal(status, "ok", `${vsn}: acknowledged`);
      assert.deepEqual((await heard.next()).payload, { vsn });

      const quiet = (await h.client({ vsn })).channel(`${topic}-${vsn}`, {
        config: { broadcast: { self: false, ack: true } },
      });
      const unheard = broadcasts(quiet, "ping");
      assert.equal((await subscribe(quiet)).status, "SUBSCRIBED");
      assert.equal(await quiet.send({ type: "broadcast", event: "ping", payload: { n: 2 } }), "ok");
      // The server relays before it acknowledges, on the same socket: had the sender been among
      // the recipients, its copy would have arrived before the ack did.
      assert.equal(unheard.received.length, 0, `${vsn}: no echo without self`);
      assert.deepEqual((await heard.next()).payload, { n: 2 }, `${vsn}: others still receive it`);
    }
  },
);

Deno.test(
  "send() before joining falls back to the REST endpoint and still reaches subscribers",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const topic = `rt-rest-${crypto.randomUUID()}`;
    const listener = (await h.client()).channel(topic);
    const queue = broadcasts(listener, "note");
    assert.equal((await subscribe(listener)).status, "SUBSCRIBED");

    const sender = await h.client();
    const unjoined = sender.channel(topic);
    const warn = console.warn;
    console.warn = () => {}; // realtime-js warns that the REST fallback is deprecated
    try {
      assert.equal(
        await unjoined.send({ type: "broadcast", event: "note", payload: { via: "rest" } }),
        "ok",
      );
    } finally {
      console.warn = warn;
    }
    assert.deepEqual((await queue.next()).payload, { via: "rest" });

    const sent = await unjoined.httpSend("note", { via: "httpSend" });
    assert.deepEqual(sent, { success: true });
    assert.deepEqual((await queue.next()).payload, { via: "httpSend" });
  },
);

Deno.test(
  "the REST endpoint refuses a caller without a valid key and a malformed body",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const endpoint = `${h.url}/realtime/v1/api/broadcast`;
    const body = JSON.stringify({ messages: [{ topic: "t", event: "e", payload: {} }] });
    const noKey = await fetch(endpoint, { method: "POST", body });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).error.code, "unauthorized");
    const forged = await fetch(endpoint, {
      method: "POST",
      headers: { apikey: `${h.anonKey}x` },
      body,
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();
    const malformed = await fetch(endpoint, {
      method: "POST",
      headers: { apikey: h.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ topic: "t" }] }),
    });
    assert.equal(malformed.status, 400);
    assert.equal((await malformed.json()).error.code, "invalid_input");
    const ok = await fetch(endpoint, {
      method: "POST",
      headers: { apikey: h.anonKey, "content-type": "application/json" },
      body,
    });
    assert.equal(ok.status, 202);
    await ok.body?.cancel();
  },
);
