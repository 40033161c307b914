/**
 * Private channels through the unmodified supabase-js, authorised the way Supabase does it: by RLS
 * policies on `realtime.messages` evaluated as the joining user. Covers a join RLS allows and ones
 * it refuses (with Supabase's exact reason), the lazy "may send" check, delivery that keeps private
 * and public channels of the same name apart, and `access_token` refreshes that keep or lose
 * read permission.
 */
import assert from "node:assert/strict";
import {
  broadcasts,
  eventQueue,
  type RealtimeHarness,
  startRealtimeHarness,
  subscribe,
} from "./harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/**
 * Policies as a project would write them: a user reads and writes `rt-room:<own id>`; everyone
 * signed in may read (but not write) `rt-lobby`.
 */
async function addPolicies(h: RealtimeHarness): Promise<void> {
  await h.db.sql.unsafe(`
    create policy "rt test: read own room and the lobby" on realtime.messages
      for select to authenticated
      using ((select realtime.topic()) in ('rt-room:' || (select auth.uid())::text, 'rt-lobby'));
    create policy "rt test: write own room" on realtime.messages
      for insert to authenticated
      with check ((select realtime.topic()) = 'rt-room:' || (select auth.uid())::text);
  `);
}

const unauthorized = (topic: string) =>
  `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`;

Deno.test("a private channel RLS allows is joined and receives broadcasts", opts, async () => {
  await using h = await startRealtimeHarness();
  await addPolicies(h);
  const alice = crypto.randomUUID();
  const token = await h.userToken(alice);
  const topic = `rt-room:${alice}`;

  const phone = (await h.client({ token: () => token })).channel(topic, {
    config: { private: true },
  });
  const received = broadcasts(phone, "note");
  assert.equal((await subscribe(phone)).status, "SUBSCRIBED");

  const laptop = (await h.client({ token: () => token, vsn: "1.0.0" })).channel(topic, {
    config: { private: true, broadcast: { ack: true } },
  });
  assert.equal((await subscribe(laptop)).status, "SUBSCRIBED");
  assert.equal(await laptop.send({ type: "broadcast", event: "note", payload: { n: 1 } }), "ok");
  assert.deepEqual((await received.next()).payload, { n: 1 });
});

Deno.test("a private channel RLS refuses answers with Supabase's reason", opts, async () => {
  await using h = await startRealtimeHarness();
  await addPolicies(h);
  const alice = crypto.randomUUID();
  const topic = `rt-room:${alice}`;

  const malloryToken = await h.userToken(crypto.randomUUID());
  const mallory = await h.client({ token: () => malloryToken });
  const refused = await subscribe(mallory.channel(topic, { config: { private: true } }));
  assert.equal(refused.status, "CHANNEL_ERROR");
  assert.equal(refused.error?.message, unauthorized(topic));

  const signedOut = await h.client(); // the anon key, as supabase-js sends it without a session
  const anon = await subscribe(signedOut.channel(topic, { config: { private: true } }));
  assert.equal(anon.status, "CHANNEL_ERROR");
  assert.equal(anon.error?.message, unauthorized(topic));

  // The same name as a public channel is another channel, open to anyone.
  const other = await h.client();
  assert.equal((await subscribe(other.channel(topic))).status, "SUBSCRIBED");
});

Deno.test(
  "a refused join waits before answering, like Supabase's channel error backoff",
  opts,
  async () => {
    await using h = await startRealtimeHarness({ joinErrorBackoffMs: 600 });
    await addPolicies(h);
    const client = await h.client();
    const started = performance.now();
    const result = await subscribe(client.channel("rt-room:nobody", { config: { private: true } }));
    assert.equal(result.status, "CHANNEL_ERROR");
    assert.ok(performance.now() - started >= 600, "the refusal is held back for the backoff");
  },
);

Deno.test(
  "broadcasts a user may read but not write are dropped, others are relayed",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    await addPolicies(h);
    const alice = crypto.randomUUID();
    const bob = crypto.randomUUID();
    const bobToken = await h.userToken(bob);

    const listener = (await h.client({ token: () => bobToken })).channel("rt-lobby", {
      config: { private: true },
    });
    const heard = broadcasts(listener, "shout");
    assert.equal((await subscribe(listener)).status, "SUBSCRIBED");

    const aliceToken = await h.userToken(alice);
    const speaker = (await h.client({ token: () => aliceToken })).channel("rt-lobby", {
      config: { private: true, broadcast: { ack: true } },
    });
    assert.equal((await subscribe(speaker)).status, "SUBSCRIBED", "alice may read the lobby");
    // Not acknowledged, because the server dropped it after the "may send" check.
    const status = await speaker.send({
      type: "broadcast",
      event: "shout",
      payload: { from: "alice" },
    }, {
      timeout: 1_000,
    });
    assert.equal(status, "timed out");

    // The service role may write anywhere; its message is the first the listener gets.
    const response = await fetch(`${h.url}/realtime/v1/api/broadcast`, {
      method: "POST",
      headers: { apikey: h.serviceRoleKey, "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{
          topic: "rt-lobby",
          event: "shout",
          payload: { from: "service" },
          private: true,
        }],
      }),
    });
    assert.equal(response.status, 202);
    await response.body?.cancel();
    assert.deepEqual((await heard.next()).payload, { from: "service" });
    assert.equal(heard.received.length, 1);
  },
);

Deno.test(
  "realtime.send reaches private joins only, and public sends public joins only",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    await addPolicies(h);
    const alice = crypto.randomUUID();
    const token = await h.userToken(alice);
    const topic = `rt-room:${alice}`;
    const client = await h.client({ token: () => token });
    const privateChannel = client.channel(topic, { config: { private: true } });
    const privateQueue = broadcasts(privateChannel, "*");
    assert.equal((await subscribe(privateChannel)).status, "SUBSCRIBED");
    const publicChannel = (await h.client()).channel(topic);
    const publicQueue = broadcasts(publicChannel, "*");
    assert.equal((await subscribe(publicChannel)).status, "SUBSCRIBED");

    await h.dbSend(topic, "secret", { n: 1 }, true);
    await h.dbSend(topic, "open", { n: 2 }, false);

    const secret = await privateQueue.next();
    assert.equal(secret.event, "secret");
    assert.equal((secret.payload as { n: number }).n, 1);
    assert.equal(
      typeof (secret.meta as { id?: unknown })?.id,
      "string",
      "meta carries the message id",
    );
    // Messages are delivered in commit order: a leaked private one would have come first.
    const open = await publicQueue.next();
    assert.equal(open.event, "open");
    assert.equal(publicQueue.received.length, 1);
  },
);

Deno.test(
  "a refreshed token of the same user keeps the channel; another user's closes it",
  opts,
  async () => {
    await using h = await startRealtimeHarness();
    await addPolicies(h);
    const alice = crypto.randomUUID();
    const topic = `rt-room:${alice}`;
    let token = await h.userToken(alice, 600);
    const client = await h.client({ token: () => token });
    const channel = client.channel(topic, { config: { private: true } });
    const notes = broadcasts(channel, "note");
    const system = eventQueue<Record<string, unknown>>();
    channel.on("system", {}, (payload) => system.push(payload));
    const statuses = eventQueue<string>();
    channel.subscribe((status) => statuses.push(status));
    assert.equal(await statuses.queue.next(), "SUBSCRIBED");

    token = await h.userToken(alice, 3600); // a refresh: new token, same user
    await client.realtime.setAuth();
    await h.dbSend(topic, "note", { n: 1 }, true);
    assert.equal(((await notes.next()).payload as { n: number }).n, 1, "still receiving");

    token = await h.userToken(crypto.randomUUID()); // now someone who may not read the room
    await client.realtime.setAuth();
    const error = await system.queue.next();
    assert.deepEqual(error, {
      extension: "system",
      status: "error",
      message: `You do not have permissions to read from this Channel topic: ${topic}`,
      channel: topic,
    });
    assert.equal(await statuses.queue.next(), "CLOSED");
    assert.equal(h.realtime().stats().channels, 0, "the server dropped the channel");
  },
);

Deno.test("an expired or forged token cannot join", opts, async () => {
  await using h = await startRealtimeHarness();
  const expired = await h.sign({ role: "authenticated", sub: crypto.randomUUID(), exp: 1 });
  const result = await subscribe((await h.client({ token: () => expired })).channel("rt-any"));
  assert.equal(result.status, "CHANNEL_ERROR");
  assert.match(result.error?.message ?? "", /^InvalidJWTToken: Token has expired \d+ seconds ago$/);

  const forged = `${await h.userToken(crypto.randomUUID())}x`;
  const bad = await subscribe((await h.client({ token: () => forged })).channel("rt-any"));
  assert.equal(bad.status, "CHANNEL_ERROR");
  assert.equal(bad.error?.message, "JwtSignatureError: Failed to validate JWT signature");
});

Deno.test("a channel whose token expires gets a system error and is closed", opts, async () => {
  await using h = await startRealtimeHarness();
  const token = await h.userToken(crypto.randomUUID(), 2);
  const channel = (await h.client({ token: () => token })).channel("rt-short-lived");
  const system = eventQueue<Record<string, unknown>>();
  channel.on("system", {}, (payload) => system.push(payload));
  const statuses = eventQueue<string>();
  channel.subscribe((status) => statuses.push(status));
  assert.equal(await statuses.queue.next(), "SUBSCRIBED");
  const error = await system.queue.next(4_000);
  assert.equal(error.message, "Token has expired 0 seconds ago");
  assert.equal(await statuses.queue.next(), "CLOSED");
});
