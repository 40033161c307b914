/**
 * The admin dashboard in a real browser against the real stack: a workload of finished, failed
 * and stuck jobs shows up in the tiles, tables and uPlot charts; a new burst of jobs reaches the
 * open page over the `admin:stats` Realtime topic (not by polling: at most a settle fetch per
 * burst); Re-dispatch clears the stuck job; a non-admin sees no Admin tab and is refused; a
 * user opens a job's timeline. Screenshots at 1280 px and 375 px in artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { setAdmin } from "../../dev/make_admin.ts";
import { anonymousUser, call, subscribeJobs } from "../e2e/helpers.ts";
import { accessibilityViolations, type BrowserEnv, startBrowserEnv } from "./harness.ts";
import type { PageDocument } from "./page_globals.ts";

declare const document: PageDocument;

const UI_TIMEOUT_MS = 20_000;
const JOB_TIMEOUT_MS = 45_000;
const ADMIN_EMAIL = "ops@example.com";
const ADMIN_PASSWORD = "correct horse battery";
const STUCK_MODEL = "veo3-fast";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Creates the admin account (email + password) through Auth, then promotes it. */
async function createAdmin(env: BrowserEnv): Promise<void> {
  const { error } = await env.stack.client().auth.signUp({
    email: ADMIN_EMAIL,
    password: ADMIN_PASSWORD,
  });
  if (error) throw error;
  await setAdmin(env.stack.serviceClient(), ADMIN_EMAIL, true);
}

async function signInWithEmail(page: Page, webUrl: string): Promise<void> {
  await page.goto(webUrl);
  await page.getByRole("textbox", { name: "Email" }).fill(ADMIN_EMAIL);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Generate a video" }).waitFor({ timeout: UI_TIMEOUT_MS });
}

async function tileText(page: Page, id: string): Promise<string> {
  return (await page.getByTestId(id).locator(".tile-value").textContent()) ?? "";
}

/** Waits until the per-model table says `model` completed `n` jobs in the window. */
function waitForDone(page: Page, model: string, n: number): Promise<void> {
  return page.locator(
    `[data-testid="model-table"] tr[data-model="${model}"][data-completed="${n}"]`,
  )
    .waitFor({ timeout: UI_TIMEOUT_MS });
}

Deno.test("the admin dashboard shows the queue live and acts on a stuck job", opts, async () => {
  const env = await startBrowserEnv({
    simDurationMs: 1500,
    env: {
      FAL_MAX_CONCURRENCY: "4",
      USER_MAX_ACTIVE: "4",
      FREE_CREDITS_ANON: "5000",
      // No reconciler: it would heal the stuck job before the dashboard shows it.
      RECONCILE_INTERVAL_S: "0",
    },
  });
  try {
    const { stack, control } = env;
    // Two long veo3 requests (the stuck one and its re-dispatch) must not hold every fal runner.
    await control.patch({ concurrency: 8 });
    await control.endpoint("fal-ai/kling-video/v1.6/pro/text-to-video", {
      errorRate: 1,
      failureType: "runner_server_error",
    });
    await control.endpoint("fal-ai/veo3/fast", { durationMs: 600_000 });
    await createAdmin(env);

    // Workload: three done, two failed, one that will look stuck at fal.
    const worker = await anonymousUser(stack);
    const events = await subscribeJobs(worker);
    const submit = async (model: string, prompt: string) => {
      const res = await call(stack, "generate-video", {
        token: worker.token,
        body: { prompt, model },
      });
      assert.equal(res.status, 202, JSON.stringify(res.json));
      return (res.json.job as { id: string }).id;
    };
    const done = [
      await submit("minimax-video-01", "a lighthouse in a storm"),
      await submit("minimax-video-01", "a fox in the snow"),
      await submit("minimax-video-01", "a city at night"),
    ];
    const failed = [
      await submit("kling-1.6-pro", "a dragon over the sea"),
      await submit("kling-1.6-pro", "a dancer on a rooftop"),
    ];
    const stuck = await submit(STUCK_MODEL, "an endless corridor");
    for (const id of done) {
      await events.waitFor((e) => e.id === id && e.status === "completed", JOB_TIMEOUT_MS);
    }
    for (const id of failed) {
      await events.waitFor((e) => e.id === id && e.status === "failed", JOB_TIMEOUT_MS);
    }
    await events.waitFor((e) => e.id === stuck && e.status === "submitted", JOB_TIMEOUT_MS);
    // As if fal had gone silent five minutes ago (veo3-fast times out after ten).
    await stack.sql`
      update public.jobs set submitted_at = now() - interval '5 minutes', started_at = null
      where id = ${stuck}::uuid`;

    // A non-admin: no Admin tab, and the page refuses.
    const user = await env.newUserPage();
    await user.page.goto(env.webUrl);
    await user.page.getByRole("button", { name: /Try it/ }).click();
    await user.page.getByRole("heading", { name: "Generate a video" }).waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    assert.equal(await user.page.getByRole("link", { name: "Admin" }).count(), 0);
    await user.page.goto(`${env.webUrl}#/admin`);
    await user.page.getByTestId("admin-error").waitFor({ timeout: UI_TIMEOUT_MS });
    assert.match((await user.page.getByTestId("admin-error").textContent()) ?? "", /for admins/);

    // The admin.
    const admin = await env.newUserPage({ width: 1280, height: 1000 });
    const { page } = admin;
    const statsFrames: number[] = [];
    page.on("websocket", (ws) => {
      ws.on("framereceived", (frame) => {
        if (String(frame.payload).includes("admin:stats")) statsFrames.push(Date.now());
      });
    });
    await signInWithEmail(page, env.webUrl);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Queue" }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="admin-connection"]')?.textContent ?? "")
          .includes("Live"),
      undefined,
      { timeout: UI_TIMEOUT_MS },
    );
    await page.getByTestId("stuck-row").first().waitFor({ timeout: UI_TIMEOUT_MS });
    assert.equal(await tileText(page, "tile-stuck"), "1");
    assert.equal(await tileText(page, "tile-inflight"), "1 / 4");
    assert.equal(await tileText(page, "tile-failures"), "40%", "2 failed of 5 finished");
    await waitForDone(page, "minimax-video-01", 3);
    assert.ok((await page.getByTestId("top-errors").textContent())?.includes("2"));
    assert.equal(await page.locator(".uplot canvas").count(), 2, "two uPlot charts drawn");
    assert.deepEqual(await accessibilityViolations(page), []);

    // Live: a new burst of jobs reaches the open page over Realtime.
    const mark = admin.requests.mark();
    const framesBefore = statsFrames.length;
    const more = [
      await submit("minimax-video-01", "rain on a window"),
      await submit("minimax-video-01", "a paper boat"),
    ];
    for (const id of more) {
      await events.waitFor((e) => e.id === id && e.status === "completed", JOB_TIMEOUT_MS);
    }
    await waitForDone(page, "minimax-video-01", 5);
    assert.ok(statsFrames.length > framesBefore, "admin:stats messages arrived over Realtime");
    const gets = admin.requests.since(mark).filter((r) => r.url.includes("/admin-queue"));
    assert.ok(gets.length <= 3, `at most a settle fetch per burst, not polling (${gets.length})`);
    await env.screenshot(page, "admin-dashboard");

    // Re-dispatch the stuck job: it is sent to fal again and is no longer stuck.
    await page.getByRole("button", { name: `Re-dispatch job ${stuck.slice(0, 8)}` }).click();
    await page.getByText("Job re-dispatched").waitFor({ timeout: UI_TIMEOUT_MS });
    await events.waitFor((e) => e.id === stuck && e.status === "submitted" && e.version > 4);
    await page.getByTestId("no-stuck").waitFor({ timeout: UI_TIMEOUT_MS });
    assert.equal(await tileText(page, "tile-stuck"), "0");
    const [row] = await stack.sql<{ n: number }[]>`
      select count(*)::int as n from public.job_events
      where job_id = ${stuck}::uuid and kind = 'requeued_by_admin'`;
    assert.equal(row?.n, 1);

    const narrow = await env.newUserPage({ width: 375, height: 900 });
    await signInWithEmail(narrow.page, env.webUrl);
    await narrow.page.goto(`${env.webUrl}#/admin`);
    await narrow.page.getByTestId("model-table").waitFor({ timeout: UI_TIMEOUT_MS });
    await env.screenshot(narrow.page, "admin-dashboard");
    assert.deepEqual(narrow.errors, []);

    // A user reads a job's timeline in the job card.
    await user.page.goto(`${env.webUrl}#/generate`);
    await user.page.getByLabel("Prompt").fill("a quiet harbour at dawn");
    await user.page.getByRole("button", { name: "Generate video" }).click();
    await user.page.goto(`${env.webUrl}#/library`);
    const card = user.page.locator('[data-testid="job-card"]').first();
    await user.page.locator('[data-testid="job-card"][data-status="completed"]').first().waitFor({
      timeout: JOB_TIMEOUT_MS,
    });
    await card.getByText("Timeline").click();
    await card.getByTestId("job-timeline").getByText("Completed").waitFor({
      timeout: UI_TIMEOUT_MS,
    });
    const steps = await card.getByTestId("job-timeline").locator("li").count();
    assert.equal(steps, 5, "created, picked, sent, result received, completed");
    await env.screenshot(user.page, "job-timeline");
    // The one refused admin-queue call of the non-admin visit is the only error expected.
    assert.deepEqual(user.errors.filter((e) => !e.includes("status of 403")), []);
    assert.equal(user.errors.length, 1);
    assert.deepEqual(admin.errors, []);
    await events.close();
  } finally {
    await env.close();
  }
});
