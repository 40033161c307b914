/**
 * 200 concurrent WebSocket clients (Supabase Free's connection limit; half vsn 1.0.0, half
 * 2.0.0) on one channel each receive one broadcast. Bounded: joins and delivery must both finish
 * within 20 s; the times are printed.
 */
import assert from "node:assert/strict";
import { broadcasts, startRealtimeHarness, subscribe } from "./harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CLIENTS = 200;

Deno.test(
  `${CLIENTS} concurrent clients on one channel each receive a broadcast`,
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const topic = `rt-crowd-${crypto.randomUUID()}`;
    const started = performance.now();
    const members = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const client = await h.client({ vsn: i % 2 === 0 ? "1.0.0" : "2.0.0" });
        const channel = client.channel(topic);
        const queue = broadcasts(channel, "announcement");
        const { status } = await subscribe(channel, 20_000);
        return { status, queue };
      }),
    );
    const joined = performance.now();
    assert.equal(members.filter((m) => m.status === "SUBSCRIBED").length, CLIENTS);
    assert.deepEqual(h.realtime().stats(), { sockets: CLIENTS, channels: CLIENTS });

    await h.dbSend(topic, "announcement", { text: "hello, everyone" }, false);
    const payloads = await Promise.all(members.map((m) => m.queue.next(20_000)));
    const delivered = performance.now();
    for (const p of payloads) {
      assert.equal((p.payload as { text: string }).text, "hello, everyone");
    }
    console.log(
      `${CLIENTS} clients: all joined in ${(joined - started).toFixed(0)} ms, ` +
        `one broadcast reached all in ${(delivered - joined).toFixed(0)} ms`,
    );
    assert.ok(delivered - started < 20_000);
  },
);
