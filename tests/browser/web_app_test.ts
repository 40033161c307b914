/**
 * The web app in a real browser (Debian's Chromium via playwright-core) against the real local
 * stack and the fal simulator: the main flow with live progress and zero polling, a reload in the
 * middle of a job, two users who never see each other's jobs, insufficient credits, a
 * keyboard-only run, and screenshots of every page at 375 px and 1280 px.
 *
 * One stack and one browser for all steps (starting them is most of the cost); each step uses its
 * own browser context, so its own anonymous user.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  accessibilityViolations,
  creditsIn,
  startBrowserEnv,
  userIdOf,
  type UserPage,
} from "./harness.ts";
import type { PageDocument, PageGetComputedStyle, PageMutationObserver } from "./page_globals.ts";

// Globals of the page, for the bodies that run there (see page_globals.ts).
declare const document: PageDocument;
declare const MutationObserver: PageMutationObserver;
declare const getComputedStyle: PageGetComputedStyle;

const SIM_MS = 5000;
/** Upper bound for anything a job does in this test (its run is SIM_MS). */
const JOB_TIMEOUT_MS = 45_000;
const UI_TIMEOUT_MS = 15_000;

/** Signs in with "Try it" and waits for the first snapshot (balance shown, live updates on). */
async function tryIt(user: UserPage, webUrl: string): Promise<void> {
  const { page } = user;
  await page.goto(webUrl);
  await page.getByRole("button", { name: /Try it/ }).click();
  await waitForReady(page);
}

async function waitForReady(page: Page): Promise<void> {
  await page.getByRole("heading", { name: "Generate a video" }).waitFor({ timeout: UI_TIMEOUT_MS });
  await page.waitForFunction(
    () => {
      const balance = document.querySelector('[data-testid="balance"]')?.textContent ?? "";
      const live = document.querySelector('[data-testid="connection"]')?.textContent ?? "";
      return /\d+ credit/.test(balance) && live.includes("Live");
    },
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
}

/** Fills the prompt, submits, and returns the new job's id from the 202 answer. */
async function submit(page: Page, prompt: string): Promise<string> {
  await page.getByLabel("Prompt").fill(prompt);
  const answer = page.waitForResponse(
    (r) => r.url().includes("/functions/v1/generate-video") && r.request().method() === "POST",
    { timeout: UI_TIMEOUT_MS },
  );
  await page.getByRole("button", { name: "Generate video" }).click();
  const res = await answer;
  assert.equal(res.status(), 202, `generate-video answered ${res.status()}`);
  const { job } = await res.json();
  return job.id as string;
}

const cardSelector = (jobId: string) => `[data-testid="job-card"][data-job-id="${jobId}"]`;

/** Waits until the job's card shows `status`. */
async function waitForStatus(page: Page, jobId: string, status: string, timeout = JOB_TIMEOUT_MS) {
  await page.locator(`${cardSelector(jobId)}[data-status="${status}"]`).first().waitFor({
    timeout,
  });
}

/** Waits until the job's `<video>` has decoded its first frame (readyState ≥ 2). */
async function waitForPlayableVideo(page: Page, jobId: string): Promise<void> {
  await page.waitForFunction(
    (sel) => {
      const video = document.querySelector(`${sel} video`);
      return (video?.readyState ?? 0) >= 2;
    },
    cardSelector(jobId),
    { timeout: JOB_TIMEOUT_MS },
  );
}

/** The job's progress bar value, or null when it has none (queued, or finished). */
function progressOf(page: Page, jobId: string): Promise<number | null> {
  return page.evaluate((sel) => {
    const bar = document.querySelector(`${sel} [role="progressbar"]`);
    const v = bar?.getAttribute("aria-valuenow");
    return v == null ? null : Number(v);
  }, cardSelector(jobId));
}

async function balanceOf(page: Page): Promise<number> {
  return creditsIn(await page.getByTestId("credits").textContent());
}

/** Presses Tab until `matches(activeElement)` (evaluated in the page) holds; bounded. */
async function tabTo(page: Page, description: string, matches: string, max = 30): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const hit = await page.evaluate((source) => {
      const el = document.activeElement;
      return !!el && (new Function("el", `return (${source})`))(el) === true;
    }, matches);
    if (hit) {
      const visible = await page.evaluate(() => {
        const el = document.activeElement!;
        const target = el.closest("label") && el.matches("input[type=radio]")
          ? el.closest("label")!
          : el;
        const style = getComputedStyle(target);
        return el.matches(":focus-visible") &&
          (style.outlineStyle !== "none" || getComputedStyle(el).outlineStyle !== "none");
      });
      assert.ok(visible, `${description}: focused but without a visible focus indicator`);
      return;
    }
  }
  throw new Error(`${description}: not reached with ${max} Tab presses`);
}

Deno.test({
  name: "web app in a real browser",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const env = await startBrowserEnv({ simDurationMs: SIM_MS });
    const users: UserPage[] = [];
    const newUser = async (width = 1280) => {
      const user = await env.newUserPage({ width });
      users.push(user);
      return user;
    };
    try {
      await t.step("sign-in page is shown to a new visitor", async () => {
        const user = await newUser(375);
        await user.page.goto(env.webUrl);
        await user.page.getByRole("button", { name: /Try it/ }).waitFor({ timeout: UI_TIMEOUT_MS });
        await env.screenshot(user.page, "sign-in");
        assert.deepEqual(await accessibilityViolations(user.page), []);
        await user.page.setViewportSize({ width: 1280, height: 900 });
        await env.screenshot(user.page, "sign-in");
      });

      let main: UserPage | null = null;
      let mainJob = "";
      await t.step(
        "anonymous start → generate → progress moves → video plays → credits down by the cost, " +
          "with no status or list request between submit and completion",
        async () => {
          const user = main = await newUser(1280);
          const { page, requests } = user;
          await tryIt(user, env.webUrl);
          const before = await balanceOf(page);
          const cost = creditsIn(await page.getByTestId("cost").textContent());
          assert.ok(
            before >= cost,
            `a new user can afford the default model (${before} ≥ ${cost})`,
          );
          await env.screenshot(page, "generate");

          const mark = requests.mark();
          const jobId = mainJob = await submit(page, "A red fox trotting through fresh snow");
          // Progress moves on the local clock while the provider works (no event in between).
          await page.waitForFunction(
            (sel) => document.querySelector(`${sel} [role="progressbar"][aria-valuenow]`),
            cardSelector(jobId),
            { timeout: UI_TIMEOUT_MS },
          );
          const first = (await progressOf(page, jobId)) ?? 0;
          await page.waitForFunction(
            ([sel, v]) => {
              const bar = document.querySelector(`${sel} [role="progressbar"]`);
              return Number(bar?.getAttribute("aria-valuenow") ?? -1) > (v as number);
            },
            [cardSelector(jobId), first] as const,
            { timeout: UI_TIMEOUT_MS },
          );
          assert.match(await page.title(), /^\(1\) Vidqueue/, "running count in the title");
          await env.screenshot(page, "generate-running");

          await waitForStatus(page, jobId, "completed");
          await waitForPlayableVideo(page, jobId);
          const during = requests.since(mark);
          const reads = during.filter((r) => r.kind === "list" || r.kind === "models");
          assert.deepEqual(reads, [], "no list/status reads between submit and completion");
          const urlReads = during.filter((r) => r.kind === "one");
          assert.equal(urlReads.length, 1, "exactly one signed-URL read for the completed job");
          assert.ok(urlReads[0]!.url.includes(jobId));
          assert.equal(await page.title(), "Vidqueue");
          await page.getByText("Your video is ready").first().waitFor({ timeout: UI_TIMEOUT_MS });
          assert.equal(await balanceOf(page), before - cost, "credits went down by the cost");
          const download = page.locator(`${cardSelector(jobId)} a`, { hasText: "Download" });
          assert.match(
            (await download.getAttribute("href")) ?? "",
            /\/storage\/v1\/object\/sign\//,
          );
          await env.screenshot(page, "generate-done");

          // The server agrees: a fresh snapshot after a reload shows the same balance and job.
          await page.reload();
          await waitForReady(page);
          assert.equal(await balanceOf(page), before - cost);
          await waitForPlayableVideo(page, jobId);
          assert.deepEqual(user.errors, []);
        },
      );

      await t.step("reloading in the middle of a job continues it live", async () => {
        const user = await newUser(375);
        const { page, requests } = user;
        await tryIt(user, env.webUrl);
        const jobId = await submit(page, "Waves rolling onto a quiet beach at dusk");
        await page.waitForFunction(
          (sel) => document.querySelector(`${sel} [role="progressbar"][aria-valuenow]`),
          cardSelector(jobId),
          { timeout: UI_TIMEOUT_MS },
        );
        const beforeReload = (await progressOf(page, jobId)) ?? 0;
        const mark = requests.mark();
        await page.reload();
        await waitForReady(page);
        const card = page.locator(cardSelector(jobId));
        await card.waitFor({ timeout: UI_TIMEOUT_MS });
        const status = await card.getAttribute("data-status");
        if (status !== "completed") {
          const after = (await progressOf(page, jobId)) ?? 0;
          assert.ok(
            after >= beforeReload,
            `progress kept after reload (${after} ≥ ${beforeReload})`,
          );
          await env.screenshot(page, "generate-running");
        }
        await waitForStatus(page, jobId, "completed");
        await waitForPlayableVideo(page, jobId);
        const lists = requests.since(mark).filter((r) => r.kind === "list");
        assert.equal(lists.length, 1, "one snapshot after the reload, no polling after it");
        assert.deepEqual(user.errors, []);
      });

      await t.step("two users in two browsers never see each other's jobs", async () => {
        const a = await newUser(1280);
        const b = await newUser(1280);
        // Record every job id either page ever renders, not only the final state.
        for (const u of [a, b]) {
          await u.context.addInitScript(() => {
            const seen = new Set<string>();
            (globalThis as unknown as { __vqSeen: Set<string> }).__vqSeen = seen;
            new MutationObserver(() => {
              document.querySelectorAll("[data-job-id]").forEach((el) =>
                seen.add(el.getAttribute("data-job-id") ?? "")
              );
            }).observe(document, { subtree: true, childList: true, attributes: true });
          });
        }
        await Promise.all([tryIt(a, env.webUrl), tryIt(b, env.webUrl)]);
        assert.notEqual(await userIdOf(a.page), await userIdOf(b.page));
        const [jobA, jobB] = await Promise.all([
          submit(a.page, "alpha: a lighthouse in a storm"),
          submit(b.page, "beta: a city street in the rain"),
        ]);
        await Promise.all([
          waitForStatus(a.page, jobA, "completed"),
          waitForStatus(b.page, jobB, "completed"),
        ]);
        for (const [u, own, other] of [[a, jobA, jobB], [b, jobB, jobA]] as const) {
          await u.page.goto(`${env.webUrl}#/library`);
          await u.page.locator(cardSelector(own)).waitFor({ timeout: UI_TIMEOUT_MS });
          const ids = await u.page.evaluate(
            () => [...(globalThis as unknown as { __vqSeen: Set<string> }).__vqSeen],
          );
          assert.ok(ids.includes(own));
          assert.ok(!ids.includes(other), "the other user's job never appeared");
          assert.equal(await u.page.getByTestId("job-card").count(), 1);
        }
        await env.screenshot(a.page, "library");
      });

      await t.step("insufficient credits shows the right message and starts nothing", async () => {
        const user = await newUser(1280);
        const { page } = user;
        await tryIt(user, env.webUrl);
        // Someone spent the credits elsewhere: the page still shows the old balance.
        const userId = await userIdOf(page);
        await env.stack.superSql`
          update public.credit_accounts set available = 3 where user_id = ${userId}::uuid`;
        await page.getByLabel("Prompt").fill("This should not start");
        await page.getByRole("button", { name: "Generate video" }).click();
        const alert = page.getByRole("alert");
        await alert.waitFor({ timeout: UI_TIMEOUT_MS });
        assert.match(await alert.textContent() ?? "", /Not enough credits/);
        await page.waitForFunction(
          () =>
            /\b3 credits\b/.test(
              document.querySelector('[data-testid="credits"]')?.textContent ?? "",
            ),
          undefined,
          { timeout: UI_TIMEOUT_MS },
        );
        assert.equal(await page.getByTestId("job-card").count(), 0);
        await env.screenshot(page, "insufficient-credits");
      });

      await t.step("a failed job shows why, returns the credits, and Retry makes it", async () => {
        const user = await newUser(1280);
        const { page } = user;
        await tryIt(user, env.webUrl);
        const before = await balanceOf(page);
        const cost = creditsIn(await page.getByTestId("cost").textContent());
        await env.control.defaults({ errorRate: 1, failureType: "internal_error" });
        let jobId: string;
        try {
          jobId = await submit(page, "A kite over the dunes");
          await waitForStatus(page, jobId, "failed");
        } finally {
          await env.control.defaults({ errorRate: 0 });
        }
        const card = page.locator(cardSelector(jobId));
        assert.match(
          await card.getByTestId("job-error").textContent() ?? "",
          /credits were returned/,
        );
        await page.getByText("A video failed").first().waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(await balanceOf(page), before, "the reservation was released");
        await env.screenshot(page, "generate-failed");
        const retried = page.waitForResponse((r) =>
          r.url().includes("/functions/v1/video-jobs") && r.request().method() === "POST"
        );
        await card.getByRole("button", { name: "Retry" }).click();
        const { job } = await (await retried).json();
        assert.notEqual(job.id, jobId, "a retry is a new job");
        await waitForStatus(page, job.id, "completed");
        await waitForPlayableVideo(page, job.id);
        assert.equal(await balanceOf(page), before - cost);
        assert.deepEqual(user.errors, []);
      });

      await t.step("a submit fal refuses shows as waiting with the reason, then runs", async () => {
        const user = await newUser(1280);
        const { page } = user;
        await tryIt(user, env.webUrl);
        await env.control.failNextSubmits([{ status: 503, retryAfter: "4" }]);
        const jobId = await submit(page, "A lighthouse in the fog");
        const reason = page.locator(cardSelector(jobId)).getByTestId("queue-reason");
        await reason.waitFor({ timeout: UI_TIMEOUT_MS });
        assert.match(
          await reason.textContent() ?? "",
          /not taking new work.*503.*credits stay reserved/,
        );
        assert.equal(
          await page.locator(cardSelector(jobId)).getAttribute("data-status"),
          "queued",
          "a refusal is not a failure",
        );
        await env.screenshot(page, "generate-refused");
        await waitForStatus(page, jobId, "completed");
        assert.equal(await reason.count(), 0, "no reason once it runs");
        assert.deepEqual(user.errors, []);
      });

      await t.step(
        "Cancel stops a running job and frees its credits; Delete removes it",
        async () => {
          const user = await newUser(1280);
          const { page } = user;
          await tryIt(user, env.webUrl);
          const before = await balanceOf(page);
          await env.control.defaults({ durationMs: 120_000 });
          let jobId: string;
          try {
            jobId = await submit(page, "A very long take that nobody will wait for");
            await waitForStatus(page, jobId, "submitted", UI_TIMEOUT_MS);
            await page.locator(cardSelector(jobId)).getByRole("button", { name: "Cancel" }).click();
            await waitForStatus(page, jobId, "canceled");
          } finally {
            await env.control.defaults({ durationMs: SIM_MS });
          }
          assert.equal(await balanceOf(page), before, "the reservation was released");
          await page.locator(cardSelector(jobId)).getByRole("button", { name: "Delete" }).click();
          await page.locator(cardSelector(jobId)).waitFor({
            state: "detached",
            timeout: UI_TIMEOUT_MS,
          });
          await page.reload();
          await waitForReady(page);
          assert.equal(
            await page.locator(cardSelector(jobId)).count(),
            0,
            "still gone after reload",
          );
          assert.deepEqual(user.errors, []);
        },
      );

      await t.step("the main flow works with the keyboard alone", async () => {
        const user = await newUser(1280);
        const { page } = user;
        await page.goto(env.webUrl);
        await page.getByRole("button", { name: /Try it/ }).waitFor({ timeout: UI_TIMEOUT_MS });
        await tabTo(page, "Try it", `el.textContent.includes("Try it")`);
        await page.keyboard.press("Enter");
        await waitForReady(page);
        await tabTo(page, "model choice", `el.type === "radio" && el.name === "model"`);
        const firstModel = await page.evaluate(() => document.activeElement?.value);
        await page.keyboard.press("ArrowDown");
        const picked = await page.evaluate(() => {
          const el = document.activeElement;
          return el?.checked ? el.value ?? null : null;
        });
        assert.ok(picked && picked !== firstModel, "arrow keys choose another model");
        await tabTo(page, "Prompt", `el.tagName === "TEXTAREA"`);
        await page.keyboard.type("A paper boat drifting down a gutter stream");
        await tabTo(page, "Generate button", `el.textContent === "Generate video"`);
        const answer = page.waitForResponse((r) =>
          r.url().includes("/functions/v1/generate-video")
        );
        await page.keyboard.press("Enter");
        const { job } = await (await answer).json();
        await waitForStatus(page, job.id, "completed");
        await waitForPlayableVideo(page, job.id);
        await tabTo(page, "video player", `el.tagName === "VIDEO"`);
        await tabTo(page, "Download link", `el.textContent === "Download"`);
        assert.deepEqual(user.errors, []);
      });

      await t.step("screenshots of every page at 375 px and 1280 px", async () => {
        assert.ok(main, "the main flow ran");
        const { page } = main;
        for (const width of [375, 1280]) {
          await page.setViewportSize({ width, height: width < 600 ? 800 : 900 });
          for (
            const [hash, name, heading] of [
              ["#/generate", "generate", "Generate a video"],
              ["#/library", "library", "Library"],
              ["#/account", "account", "Account"],
            ] as const
          ) {
            await page.goto(`${env.webUrl}${hash}`);
            await page.getByRole("heading", { name: heading, exact: true }).waitFor({
              timeout: UI_TIMEOUT_MS,
            });
            if (name !== "account") await waitForPlayableVideo(page, mainJob);
            await env.screenshot(page, name);
            assert.deepEqual(await accessibilityViolations(page), [], `${name} at ${width} px`);
          }
        }
        await page.emulateMedia({ colorScheme: "dark" });
        await page.goto(`${env.webUrl}#/generate`);
        await waitForPlayableVideo(page, mainJob);
        await env.screenshot(page, "generate-dark");
        assert.deepEqual(await accessibilityViolations(page), [], "generate, dark scheme");
        await page.emulateMedia({ colorScheme: "light" });
      });
      await t.step("saving a guest account keeps its videos after signing in again", async () => {
        assert.ok(main, "the main flow ran");
        const { page } = main;
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${env.webUrl}#/account`);
        const email = `guest-${crypto.randomUUID().slice(0, 8)}@example.test`;
        const password = `pw-${crypto.randomUUID()}`;
        await page.getByLabel("Email", { exact: true }).fill(email);
        await page.getByLabel("Password", { exact: true }).fill(password);
        await page.getByRole("button", { name: "Save account" }).click();
        await page.getByTestId("account-email").waitFor({ timeout: UI_TIMEOUT_MS });
        assert.equal(await page.getByTestId("account-email").textContent(), email);
        await env.screenshot(page, "account-saved");
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("button", { name: /Try it/ }).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.getByLabel("Email", { exact: true }).fill(email);
        await page.getByLabel("Password", { exact: true }).fill(password);
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        await waitForReady(page);
        await page.goto(`${env.webUrl}#/library`);
        await waitForPlayableVideo(page, mainJob);
        assert.deepEqual(main.errors, []);
      });
    } finally {
      for (const user of users) await user.context.close().catch(() => {});
      await env.close();
    }
  },
});
