/**
 * Deleting a user through supabase-js's `auth.admin.deleteUser` (GoTrue's hard delete, run by
 * the gateway as supabase_auth_admin) for a user with a finished video in Storage, a video still
 * rendering at the fal simulator, and the ledger rows of both: the delete succeeds, the jobs and
 * the credit account go, the ledger keeps every row and closes the open reservation, and the
 * stored video stays in Storage, listed by vidqueue.orphan_objects for removal.
 */
import assert from "node:assert/strict";
import { anonymousUser, call, e2eSuite, subscribeJobs } from "../e2e/helpers.ts";

const { stack, control, test, stop } = e2eSuite({ warmFunctions: true });

test("auth.admin.deleteUser removes a user with jobs, ledger rows and a stored video", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.defaults({ durationMs: 100 });
  const leaving = await anonymousUser(s);
  const jobs = await subscribeJobs(leaving);

  const done = await call(s, "generate-video", {
    token: leaving.token,
    body: { prompt: "a finished video kept in Storage" },
  });
  assert.equal(done.status, 202, JSON.stringify(done.json));
  const doneId = (done.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === doneId && e.status === "completed");

  await ctl.defaults({ durationMs: 60_000 });
  const rendering = await call(s, "generate-video", {
    token: leaving.token,
    body: { prompt: "a video still rendering" },
  });
  const renderingId = (rendering.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === renderingId && e.status === "submitted");
  await jobs.close();

  const stored = await s.superSql<{ bucket_id: string; name: string }[]>`
    select bucket_id, name from storage.objects
    where bucket_id = 'videos' and name like ${leaving.userId + "/%"}`;
  assert.equal(stored.length, 1, "the finished video is in Storage");
  const ledgerBefore = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.credit_ledger where user_id = ${leaving.userId}::uuid`;
  assert.ok(ledgerBefore[0]!.n >= 3, "reserve + capture, reserve");

  const { data, error } = await s.serviceClient().auth.admin.deleteUser(leaving.userId);
  assert.ifError(error);
  // GoTrue answers `{}`; supabase-js 2.x reads the user just before and returns that.
  assert.equal(data.user?.id, leaving.userId);

  const [left] = await s.sql<{ jobs: number; accounts: number; users: number }[]>`
    select (select count(*)::int from public.jobs where user_id = ${leaving.userId}::uuid) as jobs,
      (select count(*)::int from public.credit_accounts where user_id = ${leaving.userId}::uuid)
        as accounts,
      (select count(*)::int from auth.users where id = ${leaving.userId}::uuid) as users`;
  assert.deepEqual(left, { jobs: 0, accounts: 0, users: 0 });

  const ledgerAfter = await s.sql<{ kind: string; job_id: string; reason: string | null }[]>`
    select kind, job_id::text, reason from public.credit_ledger
    where user_id = ${leaving.userId}::uuid order by id`;
  assert.equal(ledgerAfter.length, ledgerBefore[0]!.n + 1, "every row kept, one release added");
  assert.deepEqual(ledgerAfter.at(-1), {
    kind: "release",
    job_id: renderingId,
    reason: "user deleted",
  });
  assert.ok(ledgerAfter.some((r) => r.job_id === doneId && r.kind === "capture"));

  const orphans = await s.sql<{ bucket_id: string; name: string }[]>`
    select bucket_id, name from vidqueue.orphan_objects()`;
  assert.ok(
    orphans.some((o) => o.bucket_id === "videos" && o.name === stored[0]!.name),
    "the stored video is listed for removal through the Storage API",
  );
  const removed = await s.serviceClient().storage.from("videos").remove([stored[0]!.name]);
  assert.ifError(removed.error);
  assert.equal(removed.data?.length, 1);

  const again = await s.serviceClient().auth.admin.deleteUser(leaving.userId);
  assert.equal(again.error?.status, 404);
  assert.equal(again.error?.code, "user_not_found");
  await stop();
});
