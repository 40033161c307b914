/**
 * Broadcast from Database: `realtime.send` in SQL reaches a subscribed supabase-js client through
 * NOTIFY of the message id, without polling. Measures the delivery time from issuing the SQL to
 * the client's callback over 100 sequential sends and prints p50 / p99.
 */
import assert from "node:assert/strict";
import { broadcasts, startRealtimeHarness, subscribe } from "./harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SENDS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]!;
}

Deno.test(
  "realtime.send in SQL reaches the subscribed client within 50 ms (median)",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    await h.db.sql.unsafe(`
    create policy "rt test: read own jobs" on realtime.messages for select to authenticated
      using ((select realtime.topic()) = 'rt-jobs:' || (select auth.uid())::text)`);
    const user = crypto.randomUUID();
    const token = await h.userToken(user);
    const topic = `rt-jobs:${user}`;
    const channel = (await h.client({ token: () => token })).channel(topic, {
      config: { private: true },
    });
    const received = broadcasts(channel, "job_updated");
    assert.equal((await subscribe(channel)).status, "SUBSCRIBED");

    const latencies: number[] = [];
    for (let i = 0; i < SENDS; i++) {
      const started = performance.now();
      await h.dbSend(topic, "job_updated", { job: { version: i } }, true);
      const got = await received.next(2_000);
      latencies.push(performance.now() - started);
      const payload = got.payload as { job: { version: number }; id: string };
      assert.equal(payload.job.version, i, "in order, none lost");
      assert.equal(typeof payload.id, "string", "realtime.send adds an id");
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    console.log(
      `realtime.send → client over ${SENDS} sends: p50 ${p50.toFixed(1)} ms, p99 ${
        p99.toFixed(1)
      } ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
    );
    assert.ok(p50 < 50, `p50 ${p50.toFixed(1)} ms`);
    assert.ok(p99 < 200, `p99 ${p99.toFixed(1)} ms`);
  },
);

Deno.test(
  "rows without an event or payload, and rolled-back sends, are not delivered",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    const topic = `rt-db-${crypto.randomUUID()}`;
    const channel = (await h.client()).channel(topic);
    const received = broadcasts(channel, "*");
    assert.equal((await subscribe(channel)).status, "SUBSCRIBED");

    await h.db
      .sql`insert into realtime.messages (topic, extension, private) values (${topic}, 'broadcast', false)`;
    const rollback = new Error("rollback");
    await assert.rejects(
      h.db.sql.begin(async (tx) => {
        await tx`select realtime.send(${tx.json({ n: 0 })}, 'rolled-back', ${topic}, false)`;
        throw rollback;
      }),
      rollback,
    );
    await h.dbSend(topic, "kept", { n: 1 }, false);
    const first = await received.next();
    assert.equal(first.event, "kept", "the first delivered message is the committed one");
    assert.equal(received.received.length, 1);
  },
);
