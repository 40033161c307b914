// Unit tests of the job-events handler: owners get the user-facing details, admins all of them,
// and a job the caller cannot see is 404.
import assert from "node:assert/strict";
import type { Authenticate, AuthUser } from "../_shared/auth.ts";
import { silentLog, USER_ID } from "../_shared/testing/fakes.ts";
import { createJobEventsHandler, type JobEvent } from "./handler.ts";

const JOB_ID = "10000000-0000-4000-8000-000000000001";
const EVENTS: JobEvent[] = [
  {
    id: 1,
    kind: "created",
    from_status: null,
    to_status: "queued",
    at: "t0",
    detail: { cost: 10 },
  },
  {
    id: 2,
    kind: "claimed",
    from_status: "queued",
    to_status: "queued",
    at: "t1",
    detail: { slot: 3, attempt: 1 },
  },
  {
    id: 3,
    kind: "failed",
    from_status: "submitted",
    to_status: "failed",
    at: "t2",
    detail: { code: "provider_error", message: "boom", request_id: "req-1" },
  },
];

function setup(admin: boolean, visible: JobEvent[] = EVENTS) {
  const reads: string[] = [];
  const authenticate: Authenticate = () =>
    Promise.resolve({
      id: USER_ID,
      claims: { sub: USER_ID, role: "authenticated", app_metadata: admin ? { role: "admin" } : {} },
      isAnonymous: false,
    });
  const handler = createJobEventsHandler({
    authenticate,
    eventsFor: (user: AuthUser, id: string) => {
      reads.push(`${user.id} ${id}`);
      return Promise.resolve(visible);
    },
    log: silentLog,
  });
  return { handler, reads };
}

const get = (id: string) => new Request(`http://x/job-events?id=${id}`);

Deno.test("the owner sees the timeline without internal details", async () => {
  const { handler, reads } = setup(false);
  const res = await handler(get(JOB_ID));
  assert.equal(res.status, 200);
  const { events } = await res.json();
  assert.deepEqual(events.map((e: JobEvent) => e.detail), [
    { cost: 10 },
    { attempt: 1 },
    { code: "provider_error", message: "boom" },
  ]);
  assert.deepEqual(reads, [`${USER_ID} ${JOB_ID}`]);
});

Deno.test("an admin sees every detail", async () => {
  const { handler } = setup(true);
  const { events } = await (await handler(get(JOB_ID))).json();
  assert.deepEqual(events, EVENTS);
});

Deno.test("a job with no visible events is 404; a bad id is 400", async () => {
  const { handler } = setup(false, []);
  assert.equal((await handler(get(JOB_ID))).status, 404);
  const bad = await handler(get("nope"));
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "invalid_input");
});
