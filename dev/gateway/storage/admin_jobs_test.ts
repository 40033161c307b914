import assert from "node:assert/strict";
import { createAdminJobs } from "./admin_jobs.ts";

Deno.test("an admin job runs after its delay, not at once", async () => {
  const jobs = createAdminJobs({ delayMs: 30, log: () => {} });
  let ran = false;
  const done = Promise.withResolvers<void>();
  jobs.enqueue("t", () => {
    ran = true;
    done.resolve();
    return Promise.resolve();
  });
  assert.equal(ran, false, "not before the answer is sent");
  await done.promise;
  assert.equal(ran, true);
  await jobs.close();
});

Deno.test("closing drops jobs that have not started and logs failed ones", async () => {
  const lines: string[] = [];
  const jobs = createAdminJobs({ delayMs: 60_000, log: (l) => lines.push(l) });
  let ran = false;
  jobs.enqueue("later", () => {
    ran = true;
    return Promise.resolve();
  });
  await jobs.close();
  assert.equal(ran, false);

  const failing = createAdminJobs({ delayMs: 0, log: (l) => lines.push(l) });
  const started = Promise.withResolvers<void>();
  failing.enqueue("broken", () => {
    started.resolve();
    return Promise.reject(new Error("disk full"));
  });
  await started.promise;
  await failing.close();
  assert.deepEqual(lines, ["[storage] admin job broken failed: disk full"]);
});
