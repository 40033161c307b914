/**
 * Batches end to end through supabase-js and the running stack (fal simulator): one request with
 * several videos → a parent and its children, credits reserved for all or none, each child
 * delivered and charged on its own, the parent's status and progress derived from its children
 * and broadcast over Realtime; cancel and retry apply to the whole batch.
 */
import assert from "node:assert/strict";
import { type TestStack } from "../harness/stack.ts";
import {
  anonymousUser,
  call,
  e2eSuite,
  type JobEvent,
  ledgerOf,
  type SignedIn,
  subscribeJobs,
} from "./helpers.ts";

const MINIMAX = "fal-ai/minimax/video-01";
const KLING = "fal-ai/kling-video/v1.6/pro/text-to-video";

// Two items of one user at fal at once (the default USER_MAX_ACTIVE is 1).
const { stack, control, test: e2eTest, stop } = e2eSuite({
  warmFunctions: true,
  env: { USER_MAX_ACTIVE: "2" },
});

async function credits(s: TestStack, user: SignedIn) {
  const res = await call(s, "video-jobs", { method: "GET", token: user.token });
  return res.json.credits as { available: number; reserved: number };
}

async function grant(s: TestStack, user: SignedIn, amount: number) {
  await s.sql`select vidqueue.grant_credits(${user.userId}::uuid, ${amount}, 'test',
    ${"test:" + crypto.randomUUID()})`;
}

type Created = { parent: JobEvent; jobs: JobEvent[] };

e2eTest(
  "a batch of two videos is delivered item by item, each charged once, the parent derived live",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.defaults({ durationMs: 300 });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const before = await credits(s, user);

    const invoked = await user.client.functions.invoke("generate-video", {
      body: {
        title: "Two foxes",
        items: [
          { prompt: "a red fox in snow", model: "minimax-video-01" },
          { template_id: "product-ad", variables: { BRAND: "Acme", MODEL: "Rocket" } },
        ],
      },
    });
    assert.equal(invoked.error, null, String(invoked.error));
    assert.equal(invoked.response?.status, 202);
    const { parent, jobs: items } = invoked.data as Created;
    assert.equal(parent.kind, "batch");
    assert.equal(parent.prompt, "Two foxes");
    assert.deepEqual(items.map((j) => [j.item, j.parent_id, j.status]), [
      [1, parent.id, "queued"],
      [2, parent.id, "queued"],
    ]);
    assert.match(String(items[1]!.prompt), /Acme Rocket/);

    const done = await jobs.waitFor((e) => e.id === parent.id && e.status === "completed", 60_000);
    assert.equal(done.progress, 100);
    assert.deepEqual((done.pipeline as Record<string, number>).completed, 2);
    for (const item of items) {
      assert.ok(jobs.events.some((e) => e.id === item.id && e.status === "completed"));
      assert.deepEqual(await ledgerOf(s, item.id), { reserve: 1, capture: 1 });
      const one = await call(s, "video-jobs", {
        method: "GET",
        token: user.token,
        query: `?id=${item.id}`,
      });
      assert.match(String((one.json.job as { video_url: string }).video_url), /^http/);
    }
    const statuses = jobs.events.filter((e) => e.id === parent.id).map((e) => e.status);
    assert.deepEqual([...new Set(statuses)], ["queued", "in_progress", "completed"]);
    assert.deepEqual(await credits(s, user), { available: before.available - 20, reserved: 0 });
    await jobs.close();
  },
);

e2eTest("a batch the user cannot pay in full is refused with 402 and writes nothing", async () => {
  const s = await stack();
  const user = await anonymousUser(s);
  const before = await credits(s, user);
  const res = await call(s, "generate-video", {
    token: user.token,
    body: { items: [{ prompt: "one" }, { prompt: "two" }, { prompt: "three" }] },
  });
  assert.equal(res.status, 402);
  assert.equal((res.json.error as { code: string }).code, "insufficient_credits");
  assert.match((res.json.error as { message: string }).message, /30 needed/);
  const [jobRows] = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where user_id = ${user.userId}::uuid`;
  assert.equal(jobRows?.n, 0, "no parent and no item");
  const [ledgerRows] = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.credit_ledger
    where user_id = ${user.userId}::uuid and kind <> 'grant'`;
  assert.equal(ledgerRows?.n, 0, "no ledger row");
  assert.deepEqual(await credits(s, user), before);

  const bad = await call(s, "generate-video", {
    token: user.token,
    body: { items: [{ prompt: "ok" }, { template_id: "product-ad", variables: { BRAND: "x" } }] },
  });
  assert.equal(bad.status, 400);
  assert.match(
    (bad.json.error as { message: string }).message,
    /^items\.1\.variables\.MODEL: required/,
  );
});

e2eTest(
  "canceling a running batch cancels its queued items at once and asks fal to stop the rest",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 3000 });
    const user = await anonymousUser(s);
    await grant(s, user, 100);
    const jobs = await subscribeJobs(user);
    const created = await call(s, "generate-video", {
      token: user.token,
      body: { items: [1, 2, 3, 4].map((i) => ({ prompt: `item ${i}` })) },
    });
    assert.equal(created.status, 202);
    const { parent, jobs: items } = created.json as unknown as Created;
    // Two items reach fal (USER_MAX_ACTIVE = 2); two wait.
    const atFal = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const e = await jobs.waitFor((e) =>
        items.some((it) => it.id === e.id) && e.status === "submitted" && !atFal.has(e.id)
      );
      atFal.add(e.id);
    }
    const canceled = await call(s, "video-jobs", {
      token: user.token,
      body: { action: "cancel", id: parent.id },
    });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.json));
    for (const item of items.filter((it) => !atFal.has(it.id))) {
      await jobs.waitFor((e) => e.id === item.id && e.status === "canceled");
      assert.deepEqual(await ledgerOf(s, item.id), { reserve: 1, release: 1 });
    }
    const end = await jobs.waitFor(
      (e) => e.id === parent.id && ["completed", "failed", "canceled"].includes(e.status),
      60_000,
    );
    assert.equal(end.status, "canceled");
    // The items at fal (3 s each) are stopped by fal's cancel long before they could finish:
    // canceled and released, like the queued ones. Nothing was charged.
    for (const id of atFal) {
      const ended = await jobs.waitFor((e) =>
        e.id === id && ["canceled", "completed"].includes(e.status)
      );
      assert.equal(ended.status, "canceled");
      assert.deepEqual(await ledgerOf(s, id), { reserve: 1, release: 1 });
    }
    assert.deepEqual(await credits(s, user), { available: 100 + 20, reserved: 0 });
    await jobs.close();
  },
);

e2eTest("a batch with a failed item fails; its retry redoes only that item", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.reset();
  await ctl.defaults({ durationMs: 200 });
  await ctl.endpoint(KLING, { errorRate: 1, failureType: "runner_server_error" });
  const user = await anonymousUser(s);
  const jobs = await subscribeJobs(user);
  const created = await call(s, "generate-video", {
    token: user.token,
    body: {
      items: [{ prompt: "fine", model: "minimax-video-01" }, {
        prompt: "doomed",
        model: "kling-1.6-pro",
      }],
    },
  });
  const { parent, jobs: items } = created.json as unknown as Created;
  const failed = await jobs.waitFor((e) => e.id === parent.id && e.status === "failed", 60_000);
  assert.deepEqual(failed.error, { code: "items_failed", message: "1 of 2 items failed." });
  assert.equal(
    jobs.events.find((e) => e.id === items[0]!.id && e.status === "completed")?.id,
    items[0]!.id,
  );

  const refused = await call(s, "video-jobs", {
    token: user.token,
    body: { action: "retry", id: items[1]!.id },
  });
  assert.equal(refused.status, 409);
  assert.match((refused.json.error as { message: string }).message, /retry the batch/);

  await ctl.endpoint(KLING, { errorRate: 0 });
  const minimaxBefore = (await ctl.requests()).filter((r) => r.endpointId === MINIMAX).length;
  const retried = await call(s, "generate-video", {
    token: user.token,
    body: { retry_of: parent.id },
  });
  assert.equal(retried.status, 202, JSON.stringify(retried.json));
  const retry = retried.json as unknown as Created;
  assert.deepEqual(retry.jobs.map((j) => [j.item, j.status, j.credits_cost]), [
    [1, "completed", 0],
    [2, "queued", 10],
  ]);
  await jobs.waitFor((e) => e.id === retry.parent.id && e.status === "completed", 60_000);
  assert.equal(
    (await ctl.requests()).filter((r) => r.endpointId === MINIMAX).length,
    minimaxBefore,
    "the finished item was not made again",
  );
  const again = await call(s, "generate-video", {
    token: user.token,
    body: { retry_of: parent.id },
  });
  assert.equal((again.json.parent as { id: string }).id, retry.parent.id, "a retry is made once");
  await jobs.close();
});

e2eTest("stop the batch stack", async () => {
  await stop();
});
