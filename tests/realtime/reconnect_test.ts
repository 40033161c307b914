/**
 * When the socket drops (here: the Realtime service behind the port is replaced, closing every
 * socket), supabase-js reconnects on its own schedule, rejoins its channels — private ones are
 * authorised again — and receives messages sent after the rejoin.
 */
import assert from "node:assert/strict";
import { broadcasts, eventQueue, startRealtimeHarness } from "./harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("after the socket drops, the client rejoins and receives again", opts, async () => {
  await using h = await startRealtimeHarness();
  await h.db.sql.unsafe(`
    create policy "rt test: read own room" on realtime.messages for select to authenticated
      using ((select realtime.topic()) = 'rt-room:' || (select auth.uid())::text)`);
  const user = crypto.randomUUID();
  const token = await h.userToken(user);
  const client = await h.client({ token: () => token });
  const channels = [
    client.channel(`rt-room:${user}`, { config: { private: true } }),
    client.channel(`rt-public-${user}`),
  ];
  const watched = channels.map((channel) => {
    const statuses = eventQueue<string>();
    const queue = broadcasts(channel, "after");
    channel.subscribe((status) => statuses.push(status));
    return { channel, statuses: statuses.queue, queue };
  });
  for (const w of watched) assert.equal(await w.statuses.next(), "SUBSCRIBED");

  await h.restart();

  for (const w of watched) {
    // realtime-js reports the drop as a channel error, then rejoins after reconnecting (~1 s).
    assert.equal(await w.statuses.next(), "CHANNEL_ERROR");
    assert.equal(await w.statuses.next(10_000), "SUBSCRIBED");
  }
  await h.dbSend(`rt-room:${user}`, "after", { n: 1 }, true);
  await h.dbSend(`rt-public-${user}`, "after", { n: 2 }, false);
  assert.equal(((await watched[0]!.queue.next()).payload as { n: number }).n, 1);
  assert.equal(((await watched[1]!.queue.next()).payload as { n: number }).n, 2);
});
