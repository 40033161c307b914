/**
 * Deleting a user while one of their videos is still at fal, through the running stack: the
 * delete is GoTrue's own statement (`delete from auth.users` as supabase_auth_admin), then fal
 * finishes the orphaned request and calls our webhook, and the reconciler runs. Nothing fails:
 * the webhook is answered without a server error (no job waits for that request) and changes
 * nothing, the reconciler completes its run, the other user's video is still made, the in-flight
 * job's reservation is released, and the deleted user's stored video is listed for removal.
 */
import assert from "node:assert/strict";
import { anonymousUser, call, e2eSuite, subscribeJobs } from "./helpers.ts";

const RECONCILE_SECRET = crypto.randomUUID();
const { stack, control, test: e2eTest, stop } = e2eSuite({
  warmFunctions: true,
  env: { RECONCILE_INTERVAL_S: "0", RECONCILE_SECRET },
});

e2eTest("a user deleted as GoTrue deletes them leaves nothing that fails", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.defaults({ durationMs: 100 });
  const leaving = await anonymousUser(s);
  const staying = await anonymousUser(s);
  const leavingJobs = await subscribeJobs(leaving);
  const stayingJobs = await subscribeJobs(staying);

  const first = await call(s, "generate-video", {
    token: leaving.token,
    body: { prompt: "a video that is kept in Storage" },
  });
  assert.equal(first.status, 202);
  const storedId = (first.json.job as { id: string }).id;
  await leavingJobs.waitFor((e) => e.id === storedId && e.status === "completed");

  await ctl.defaults({ durationMs: 1500 });
  const second = await call(s, "generate-video", {
    token: leaving.token,
    body: { prompt: "a video still rendering at fal" },
  });
  const inFlightId = (second.json.job as { id: string }).id;
  await leavingJobs.waitFor((e) => e.id === inFlightId && e.status === "submitted");
  const rows = await s.sql<{ request_id: string }[]>`
    select provider_request_id as request_id from public.jobs where id = ${inFlightId}::uuid`;
  const requestId = rows[0]!.request_id;
  await leavingJobs.close();

  await s.superSql.begin(async (tx) => {
    await tx`set local role supabase_auth_admin`;
    await tx`delete from auth.users where id = ${leaving.userId}::uuid`;
  });
  const left = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where user_id = ${leaving.userId}::uuid`;
  assert.equal(left[0]!.n, 0, "their jobs went with them");

  const other = await call(s, "generate-video", {
    token: staying.token,
    body: { prompt: "a video for someone who stays" },
  });
  const otherId = (other.json.job as { id: string }).id;

  const orphan = await ctl.waitFor(requestId, {
    until: "completed",
    deliveries: 1,
    timeoutMs: 20_000,
  });
  assert.equal(orphan.status, "COMPLETED", "fal finished the orphaned request");
  const answered = orphan.webhook.deliveries[0]?.status ?? null;
  assert.ok(
    answered !== null && answered < 500,
    `its webhook was answered without a server error (got ${answered})`,
  );

  const reconciled = await call(s, "reconcile-jobs", {
    body: {},
    headers: { "x-reconcile-secret": RECONCILE_SECRET },
  });
  assert.equal(reconciled.status, 200, JSON.stringify(reconciled.json));

  await stayingJobs.waitFor((e) => e.id === otherId && e.status === "completed");
  await stayingJobs.close();

  const released = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.credit_ledger
    where job_id = ${inFlightId}::uuid and kind = 'release' and reason = 'user deleted'`;
  assert.equal(released[0]!.n, 1, "the in-flight job's reservation was released");
  const orphans = await s.sql<{ bucket_id: string; name: string }[]>`
    select bucket_id, name from vidqueue.orphan_objects()`;
  assert.ok(
    orphans.some((o) => o.bucket_id === "videos" && o.name.startsWith(`${leaving.userId}/`)),
    "their stored video is listed for removal through the Storage API",
  );
  assert.ok(!orphans.some((o) => o.name.startsWith(`${staying.userId}/`)));
  await stop();
});
