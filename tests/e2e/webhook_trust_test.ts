/**
 * Only our own fal requests move a job, proved through the real stack against an attacker who has
 * genuinely signed fal webhooks. The fal simulator signs with the keys our functions trust (as fal
 * signs every customer's webhooks with the same keys), so a "foreign" webhook is simply one the
 * simulator sent for a request we did not make: submitted straight to its queue API with
 * `fal_webhook` pointing at this test's capture server. Replayed at our `fal-webhook` — at a
 * victim job in dispatch, with no token, a forged one, or a genuine token of another job — it
 * changes nothing. A genuine webhook of an earlier dispatch cannot touch the dispatch in flight,
 * a submit answered after its job moved on is canceled at fal, and an admin's re-dispatch cancels
 * the request it replaces.
 */
import assert from "node:assert/strict";
import { setAdmin } from "../../dev/make_admin.ts";
import type { FalSimControl, RequestRecord } from "../../dev/fal_sim/control.ts";
import { startWebhookReceiver } from "../../dev/fal_sim/testing.ts";
import type { TestStack } from "../harness/stack.ts";
import { waitUntilDb } from "../faults/waits.ts";
import {
  anonymousUser,
  call,
  e2eSuite,
  ledgerOf,
  type SignedIn,
  subscribeJobs,
} from "./helpers.ts";

/** The simulator signs as `fal-sim-user`: that is "our" fal account here. */
const OUR_FAL_USER = "fal-sim-user";
const ATTACKER_ENDPOINT = "fal-ai/attacker/video";

const suite = e2eSuite({
  warmFunctions: true,
  env: {
    FAL_WEBHOOK_USER_ID: OUR_FAL_USER,
    // Refused submits come back quickly (backoff base 1 ms, the reconciler every second); the
    // grace period stays long, so the reconciler never heals a dispatch these tests hold.
    RETRY_BASE_MS: "1",
    RECONCILE_INTERVAL_S: "1",
  },
});
const { stack, control } = suite;

interface JobRowView {
  status: string;
  dispatching: boolean;
  dispatch_seq: number;
  provider_request_id: string | null;
  version: number;
  attempts: number;
}

async function jobRow(s: TestStack, id: string): Promise<JobRowView> {
  const [row] = await s.sql<JobRowView[]>`
    select status, dispatching_at is not null as dispatching, dispatch_seq,
      provider_request_id, version, attempts
    from public.jobs where id = ${id}::uuid`;
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

async function newJob(s: TestStack, user: SignedIn, prompt: string): Promise<string> {
  const res = await call(s, "generate-video", { token: user.token, body: { prompt } });
  assert.equal(res.status, 202, JSON.stringify(res.json));
  return (res.json.job as { id: string }).id;
}

/** Our fal request(s) for a job, as the simulator saw them (by the job id in the webhook URL). */
async function requestsOf(ctl: FalSimControl, jobId: string): Promise<RequestRecord[]> {
  return (await ctl.requests()).filter((r) =>
    r.webhook.url && new URL(r.webhook.url).searchParams.get("job_id") === jobId
  );
}

/** Runs requests we never made at the simulator; returns their signed webhooks as captured. */
async function foreignWebhooks(
  s: TestStack,
  ctl: FalSimControl,
  inputs: Record<string, unknown>[],
) {
  const capture = startWebhookReceiver();
  try {
    await ctl.endpoint(ATTACKER_ENDPOINT, { durationMs: 10 });
    for (const input of inputs) {
      const res = await fetch(
        `${s.stack.fal!.url}/${ATTACKER_ENDPOINT}?fal_webhook=${encodeURIComponent(capture.url)}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Key attacker" },
          body: JSON.stringify(input),
        },
      );
      assert.equal(res.status, 200, await res.text());
    }
    return await capture.waitFor(inputs.length);
  } finally {
    await capture.stop();
  }
}

/** Replays a captured delivery (exact bytes and fal's signature headers) at `url`. */
async function replay(
  url: string,
  hook: { headers: Headers; raw: Uint8Array<ArrayBuffer> },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const [k, v] of hook.headers) if (k.startsWith("x-fal-webhook-")) headers[k] = v;
  const res = await fetch(url, { method: "POST", headers, body: hook.raw });
  return { status: res.status, json: await res.json() };
}

function webhookUrlFor(s: TestStack, query: Record<string, string>): string {
  return `${s.info.supabaseUrl}/functions/v1/fal-webhook?${new URLSearchParams(query)}`;
}

/** An anonymous user promoted to admin, with a refreshed token that carries the role. */
async function adminUser(s: TestStack): Promise<SignedIn> {
  const user = await anonymousUser(s);
  await setAdmin(s.serviceClient(), user.userId, true);
  const { data, error } = await user.client.auth.refreshSession();
  if (error || !data.session) throw error ?? new Error("no refreshed session");
  return { ...user, token: data.session.access_token };
}

suite.test(
  "genuinely signed webhooks of requests we never made, replayed at a job in dispatch, change nothing",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 50 });
    const attacker = await anonymousUser(s);
    const victim = await anonymousUser(s);

    // A finished job of the attacker's own: its genuine webhook URL (with a valid token) leaks.
    const ownEvents = await subscribeJobs(attacker);
    const own = await newJob(s, attacker, "my own job");
    await ownEvents.waitFor((e) => e.id === own && e.status === "completed");
    await ownEvents.close();
    const [ownRequest] = await requestsOf(ctl, own);
    const ownUrl = ownRequest!.webhook.url!;

    // Bad (ERROR: no prompt) and good (OK: a file on fal's CDN) requests of the attacker's.
    const [errorHook, okHook] = await foreignWebhooks(s, ctl, [{}, { prompt: "planted" }]);
    assert.equal(errorHook!.body.status, "ERROR");
    assert.equal(okHook!.body.status, "OK");

    // The victim's job is in dispatch: fal has its submit, the answer is on the way.
    await ctl.webhookFaults({ reorderWindow: 1000 });
    await ctl.failNextSubmits([{ status: 200, hold: true }]);
    const submitted = (await ctl.submits()).length;
    const jobId = await newJob(s, victim, "the victim's job");
    await ctl.waitForSubmits(submitted + 1);
    const before = await jobRow(s, jobId);
    assert.deepEqual(
      [before.status, before.dispatching, before.provider_request_id],
      ["queued", true, null],
      "in dispatch",
    );

    const forgedToken = "A".repeat(43);
    const ownQuery = Object.fromEntries(new URL(ownUrl).searchParams);
    for (const hook of [errorHook!, okHook!]) {
      for (
        const url of [
          webhookUrlFor(s, { job_id: jobId }),
          webhookUrlFor(s, { job_id: jobId, dispatch: "1", token: forgedToken }),
          webhookUrlFor(s, { ...ownQuery, job_id: jobId }),
        ]
      ) {
        const res = await replay(url, hook);
        assert.equal(res.status, 401, `${url}: ${JSON.stringify(res.json)}`);
        assert.equal((res.json.error as { code: string }).code, "invalid_signature");
      }
      // The attacker's own valid token names their own (finished) job: nothing to adopt.
      const res = await replay(ownUrl, hook);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json, { ok: true, ignored: "unknown_request" });
    }

    assert.deepEqual(await jobRow(s, jobId), before, "the victim's job is untouched");
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1 }, "its credits are not released");
    const [ownAfter] = await s.sql<{ status: string; provider_request_id: string }[]>`
      select status, provider_request_id from public.jobs where id = ${own}::uuid`;
    assert.deepEqual(ownAfter, {
      status: "completed",
      provider_request_id: ownRequest!.requestId,
    });

    // The victim's real request goes on and completes, charged once.
    const events = await subscribeJobs(victim);
    assert.equal(await ctl.releaseSubmits(), 1);
    await waitUntilDb(
      s.sql,
      "the victim's request id is stored",
      async () => (await jobRow(s, jobId)).provider_request_id !== null,
    );
    await ctl.webhookFaults({ reorderWindow: 0 });
    await ctl.flushWebhooks();
    await events.waitFor((e) => e.id === jobId && e.status === "completed");
    const [mine] = await requestsOf(ctl, jobId);
    assert.equal((await jobRow(s, jobId)).provider_request_id, mine!.requestId);
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1, capture: 1 });
    await events.close();
  },
);

suite.test(
  "a webhook signed for another fal account is refused even with a valid token of the job in dispatch",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 50 });
    const victim = await anonymousUser(s);
    await ctl.webhookFaults({ reorderWindow: 1000 });
    await ctl.failNextSubmits([{ status: 200, hold: true }]);
    const jobId = await newJob(s, victim, "a job whose webhook URL leaked");
    await ctl.waitForSubmits(1);
    const [held] = await requestsOf(ctl, jobId);
    const leakedUrl = held!.webhook.url!;
    const before = await jobRow(s, jobId);

    // fal webhooks of a request made from another fal account.
    await ctl.webhookFaults({ reorderWindow: 0, userId: "another-fal-account" });
    const [foreign] = await foreignWebhooks(s, ctl, [{}]);
    assert.equal(foreign!.headers.get("x-fal-webhook-user-id"), "another-fal-account");
    const res = await replay(leakedUrl, foreign!);
    assert.equal(res.status, 401, JSON.stringify(res.json));
    assert.equal((res.json.error as { code: string }).code, "invalid_signature");
    assert.deepEqual(await jobRow(s, jobId), before, "untouched");
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1 });

    await ctl.webhookFaults({ userId: null });
    const events = await subscribeJobs(victim);
    await ctl.releaseSubmits();
    await events.waitFor((e) => e.id === jobId && e.status === "completed");
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1, capture: 1 });
    await events.close();
  },
);

suite.test(
  "a genuine webhook of dispatch 1 arriving while dispatch 2 is in flight changes nothing",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 20 });
    const user = await anonymousUser(s);
    const events = await subscribeJobs(user);
    // Dispatch 1: fal accepts the request but its answer is lost (503). Dispatch 2's answer is
    // held, so dispatch 2 is in flight when dispatch 1's webhook arrives.
    await ctl.webhookFaults({ reorderWindow: 1000 });
    await ctl.failNextSubmits([{ status: 503, accepted: true }, { status: 200, hold: true }]);
    const jobId = await newJob(s, user, "a lost answer");
    const [first, second] = await ctl.waitForSubmits(2, { timeoutMs: 20_000 });
    assert.equal(first!.answered, 503);
    const r1 = first!.requestId!;
    await ctl.waitFor(r1, { until: "webhook_held" });
    const inFlight = await jobRow(s, jobId);
    assert.deepEqual(
      [inFlight.status, inFlight.dispatching, inFlight.dispatch_seq, inFlight.attempts],
      ["queued", true, 2, 1],
      "dispatch 2 in flight; the refused dispatch 1 used no attempt",
    );

    // fal delivers dispatch 1's webhook (OK, genuinely signed, with dispatch 1's own token).
    await ctl.flushWebhooks();
    const delivered = await ctl.waitFor(r1, { until: "webhook_settled" });
    assert.equal(delivered.webhook.deliveries[0]?.status, 200, "answered 2xx so fal stops");
    assert.deepEqual(await jobRow(s, jobId), inFlight, "dispatch 2 is untouched");

    // Dispatch 2 completes with its own request.
    await ctl.webhookFaults({ reorderWindow: 0 });
    await ctl.releaseSubmits();
    await waitUntilDb(
      s.sql,
      "dispatch 2's request id is stored",
      async () => (await jobRow(s, jobId)).provider_request_id !== null,
    );
    await ctl.flushWebhooks();
    await events.waitFor((e) => e.id === jobId && e.status === "completed");
    const done = await jobRow(s, jobId);
    assert.equal(done.provider_request_id, second!.requestId, "the result of dispatch 2");
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1, capture: 1 });
    await events.close();
  },
);

suite.test(
  "a submit answered after its job was re-dispatched is canceled at fal; the job completes once",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 60_000 });
    const owner = await anonymousUser(s);
    const events = await subscribeJobs(owner);
    const admin = await adminUser(s);
    await ctl.failNextSubmits([{ status: 200, hold: true }]);
    const jobId = await newJob(s, owner, "stuck in dispatch");
    const [stuck] = await ctl.waitForSubmits(1);
    const r1 = stuck!.requestId!;

    // The admin re-dispatches the job stuck in dispatch (its request id is unknown to us).
    await ctl.defaults({ durationMs: 50 });
    const redispatch = await call(s, "admin-queue", {
      token: admin.token,
      body: { action: "redispatch", id: jobId },
    });
    assert.equal(redispatch.status, 200, JSON.stringify(redispatch.json));
    await events.waitFor((e) => e.id === jobId && e.status === "completed");

    // Dispatch 1's answer finally arrives: the job moved on, so that request is stopped.
    await ctl.releaseSubmits();
    const orphan = await ctl.waitFor(r1, { until: "cancel_requested", timeoutMs: 20_000 });
    assert.equal(orphan.cancelRequested, true);
    const done = await jobRow(s, jobId);
    assert.equal(done.status, "completed");
    assert.notEqual(done.provider_request_id, r1);
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1, capture: 1 });
    await events.close();
  },
);

suite.test(
  "an admin re-dispatch of a job at fal cancels the request it replaces; its ERROR webhook is a no-op",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 60_000 });
    const owner = await anonymousUser(s);
    const events = await subscribeJobs(owner);
    const admin = await adminUser(s);
    const jobId = await newJob(s, owner, "stuck at fal");
    await events.waitFor((e) => e.id === jobId && e.status === "submitted");
    const r1 = (await jobRow(s, jobId)).provider_request_id!;

    await ctl.defaults({ durationMs: 50 });
    const redispatch = await call(s, "admin-queue", {
      token: admin.token,
      body: { action: "redispatch", id: jobId },
    });
    assert.equal(redispatch.status, 200, JSON.stringify(redispatch.json));
    const old = await ctl.waitFor(r1, { until: "webhook_settled", timeoutMs: 20_000 });
    assert.equal(old.cancelRequested, true, "the replaced request was asked to stop");
    assert.equal(old.webhook.body && JSON.parse(old.webhook.body).status, "ERROR");
    await events.waitFor((e) => e.id === jobId && e.status === "completed");
    const done = await jobRow(s, jobId);
    assert.notEqual(done.provider_request_id, r1);
    assert.deepEqual(await ledgerOf(s, jobId), { reserve: 1, capture: 1 });
    assert.equal(
      events.events.some((e) => e.id === jobId && e.status === "failed"),
      false,
      "the canceled request's webhook never failed the job",
    );
    await events.close();
  },
);

suite.test("stop the webhook trust stack", async () => {
  await suite.stop();
});
