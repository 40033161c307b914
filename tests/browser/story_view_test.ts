/**
 * The story view in a real browser (issue 10, item 6): a user creates a three-scene story through
 * the Create page's story editor (adding and reordering scenes), watches each scene's image and
 * narration and the final compose job move to completed live over Realtime, and the story's video
 * plays. Screenshots at 1280 px and 375 px go to artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { accessibilityViolations, creditsIn, startBrowserEnv } from "./harness.ts";
import type { PageDocument, PageMutationObserver } from "./page_globals.ts";

declare const document: PageDocument & { body: unknown };
declare const MutationObserver: PageMutationObserver;

/** Each simulated fal request (image, narration, compose) runs this long. */
const SIM_MS = 500;
const UI_TIMEOUT_MS = 15_000;
/** Images in parallel, then narrations, then compose: a few SIM_MS plus dispatch. */
const STORY_TIMEOUT_MS = 60_000;

type Seen = { seen: string[] };

/** Records every status a pipeline child shows, as `kind:item:status`, in the page. */
async function recordChildStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as Seen;
    g.seen = [];
    const record = () => {
      document.querySelectorAll('[data-testid="pipeline-child"]').forEach((el) => {
        const item = el.closest('[data-testid="pipeline-item"]')?.getAttribute("data-item");
        const key = `${el.getAttribute("data-kind")}:${item}:${el.getAttribute("data-status")}`;
        if (!g.seen.includes(key)) g.seen.push(key);
      });
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
    });
    record();
  });
}

Deno.test({
  name: "a three-scene story made in the story editor shows per-scene progress and plays",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const t0 = performance.now();
    const env = await startBrowserEnv({ simDurationMs: SIM_MS });
    const secs = (from: number) => ((performance.now() - from) / 1000).toFixed(1);
    console.log(`stack and browser up in ${secs(t0)} s`);
    try {
      const user = await env.newUserPage({ width: 1280 });
      const { page } = user;
      await page.goto(env.webUrl);
      await page.getByRole("button", { name: /Try it/ }).click();
      await page.getByRole("heading", { name: "Generate a video" }).waitFor({
        timeout: UI_TIMEOUT_MS,
      });
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Create" })
        .click();
      await page.getByRole("heading", { name: "Create" }).waitFor({ timeout: UI_TIMEOUT_MS });
      // The balance is known (first snapshot) before we spend.
      await page.waitForFunction(
        () => /\d/.test(document.querySelector('[data-testid="credits"]')?.textContent ?? ""),
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      const before = creditsIn(await page.getByTestId("credits").textContent());

      // The editor: three scenes, the last written first and moved into place.
      await page.getByLabel("Story title").fill("The robot");
      await page.getByLabel("Scene 1 narration").fill("A small robot wakes up in a workshop.");
      await page.getByLabel("Scene 1 image prompt (optional)").fill("a robot in warm light");
      await page.getByRole("button", { name: "Add scene" }).click();
      await page.getByRole("button", { name: "Add scene" }).click();
      await page.getByLabel("Scene 2 narration").fill("And so the adventure began.");
      await page.getByLabel("Scene 3 narration").fill("It sees the city for the first time.");
      await page.getByRole("button", { name: "Move scene 3 up" }).click();
      assert.equal(
        await page.getByLabel("Scene 2 narration").inputValue(),
        "It sees the city for the first time.",
        "moving scene 3 up swaps it with scene 2",
      );
      await env.screenshot(page, "story-editor");

      const answer = page.waitForResponse(
        (r) => r.url().includes("/functions/v1/generate-video") && r.request().method() === "POST",
        { timeout: UI_TIMEOUT_MS },
      );
      await page.getByRole("button", { name: /Create story/ }).click();
      const res = await answer;
      const submitted = performance.now();
      assert.equal(res.status(), 202, `generate-video answered ${res.status()}`);
      const { parent, jobs } = await res.json() as {
        parent: { id: string; credits_cost: number };
        jobs: unknown[];
      };
      assert.equal(jobs.length, 7, "3 images, 3 narrations, 1 compose job");
      await recordChildStatuses(page);

      const story = page.locator(`[data-testid="pipeline"][data-job-id="${parent.id}"]`);
      await story.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await story.locator('[data-testid="pipeline-item"]').count(), 4);
      await env.screenshot(page, "story-running");

      await page.locator(
        `[data-testid="pipeline"][data-job-id="${parent.id}"]` +
          '[data-status="completed"]',
      ).waitFor({ timeout: STORY_TIMEOUT_MS });
      console.log(`story completed in the view ${secs(submitted)} s after submit`);
      // Every scene's image and narration, and the compose job, reached completed in the view.
      await page.waitForFunction(
        () => {
          const all: string[] = [];
          document.querySelectorAll('[data-testid="pipeline-child"]').forEach((el) =>
            all.push(el.getAttribute("data-status") ?? "")
          );
          return all.length === 7 && all.every((s) => s === "completed");
        },
        undefined,
        { timeout: UI_TIMEOUT_MS },
      );
      const seen = await page.evaluate(() => (globalThis as unknown as Seen).seen);
      for (const item of ["1", "2", "3"]) {
        for (const kind of ["image", "audio"]) {
          assert.ok(seen.includes(`${kind}:${item}:completed`), `${kind} of scene ${item} done`);
          assert.ok(
            seen.some((k) => k.startsWith(`${kind}:${item}:`) && !k.endsWith(":completed")),
            `${kind} of scene ${item} was seen before it completed (${seen.join(", ")})`,
          );
        }
      }
      assert.ok(
        seen.some((k) => k.startsWith("compose:compose:") && !k.endsWith(":completed")),
        "the compose job was seen running or waiting",
      );
      assert.match(await story.getByTestId("pipeline-stage").textContent() ?? "", /Done/);

      // The story's video plays, and the scenes' partial results are viewable.
      await page.waitForFunction(
        (sel) =>
          (document.querySelector(`${sel} [data-testid="story-video"] video`)?.readyState ?? 0) >=
            2,
        `[data-testid="pipeline"][data-job-id="${parent.id}"]`,
        { timeout: UI_TIMEOUT_MS },
      );
      assert.equal(await story.locator("img.pipeline-image").count(), 3, "scene images shown");
      assert.equal(await story.locator("audio").count(), 3, "narrations playable");

      // Charged once: the children's costs, not the parent's sum on top.
      await page.waitForFunction(
        (expected) =>
          (document.querySelector('[data-testid="credits"]')?.textContent ?? "").includes(
            `${expected} credit`,
          ),
        before - parent.credits_cost,
        { timeout: UI_TIMEOUT_MS },
      );

      console.log(`video played and balance checked ${secs(submitted)} s after submit`);
      await env.screenshot(page, "story-done");
      assert.deepEqual(await accessibilityViolations(page), []);
      await page.setViewportSize({ width: 375, height: 800 });
      await env.screenshot(page, "story-done");
      assert.deepEqual(user.errors, [], "no errors in the page");
      console.log(`test body done in ${secs(t0)} s`);
      await user.context.close();
    } finally {
      await env.close();
    }
  },
});
