/**
 * What the browser tests share: the real stack (gateway, functions, Postgres) with its embedded
 * fal simulator, the built web app, Debian's Chromium through playwright-core, a log of every request
 * a page makes to the API (to prove the app does not poll), and screenshots in
 * `artifacts/screenshots/` (git-ignored).
 */
import axe from "axe-core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { createFalSimControl, type FalSimControl } from "../../dev/fal_sim/control.ts";
import { ensureWebBuilt } from "../../web/build.ts";
import { startTestStack, type TestStack } from "../harness/stack.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, hermetic headless Chromium (no network beyond what the page asks for). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const PROJECT_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const SCREENSHOT_DIR = `${PROJECT_ROOT}/artifacts/screenshots`;

/** What one API request was, for counting reads. */
export type RequestKind =
  | "list" // GET video-jobs (snapshot or page)
  | "one" // GET video-jobs?id= (signed URL)
  | "models" // GET video-jobs?models=1
  | "generate" // POST generate-video
  | "action" // POST video-jobs
  | "other";

export interface LoggedRequest {
  kind: RequestKind;
  method: string;
  url: string;
  /** Position in the log, to compare with marks. */
  seq: number;
}

/** Every function call one page made, in order. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  constructor(page: Page, functionsBase: string) {
    page.on("request", (req) => {
      const url = req.url();
      if (!url.startsWith(functionsBase)) return;
      const u = new URL(url);
      const name = u.pathname.slice(new URL(functionsBase).pathname.length).replace(/^\//, "");
      const method = req.method();
      let kind: RequestKind = "other";
      if (name === "video-jobs" && method === "GET") {
        kind = u.searchParams.has("id") ? "one" : u.searchParams.has("models") ? "models" : "list";
      } else if (name === "video-jobs" && method === "POST") kind = "action";
      else if (name === "generate-video" && method === "POST") kind = "generate";
      if (method === "OPTIONS") return;
      this.entries.push({ kind, method, url, seq: this.entries.length });
    });
  }

  /** A mark: requests after it are `since(mark)`. */
  mark(): number {
    return this.entries.length;
  }

  since(mark: number): LoggedRequest[] {
    return this.entries.slice(mark);
  }
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  requests: RequestLog;
  /** Browser errors (uncaught exceptions and console errors) seen on the page. */
  errors: string[];
}

export interface BrowserEnv {
  stack: TestStack;
  /** The stack's embedded fal simulator's control API. */
  control: FalSimControl;
  browser: Browser;
  webUrl: string;
  /** A fresh browser context (own storage, so own user) with one page and a request log. */
  newUserPage(opts?: { width?: number; height?: number }): Promise<UserPage>;
  /** Full-page screenshot to artifacts/screenshots/<name>-<width>.png. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export interface BrowserEnvOptions {
  /** How long each simulated fal request runs; the models' expected time is set to match. */
  simDurationMs: number;
  /** Extra env for the functions. */
  env?: Record<string, string>;
}

/** Starts simulator, stack and browser (building web/dist first when its sources changed). */
export async function startBrowserEnv(opts: BrowserEnvOptions): Promise<BrowserEnv> {
  await ensureWebBuilt({ log: (line) => console.log(`[web] ${line}`) });
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const stack = await startTestStack({
      warmFunctions: true,
      env: {
        // Never the real fal, whatever the environment says: the stack's embedded simulator.
        FAL_KEY: "",
        FAL_QUEUE_BASE_URL: "",
        FAL_SIM_DURATION_MS: String(opts.simDurationMs),
        ...opts.env,
      },
    });
    cleanups.push(() => stack.stop());
    const sim = stack.stack.fal;
    if (!sim) throw new Error("the test stack runs no fal simulator");
    // The simulator runs jobs in seconds; make the catalog's expectation match so the progress
    // estimate moves visibly (before any function has read and cached the catalog).
    await stack.sql`
      update public.models set expected_seconds = ${
      Math.max(1, Math.round(opts.simDurationMs / 1000))
    }`;
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });

    const webUrl = stack.info.webUrl;
    const functionsBase = `${stack.info.supabaseUrl}/functions/v1/`;
    return {
      stack,
      control: createFalSimControl(sim),
      browser,
      webUrl,
      async newUserPage(size = {}) {
        const context = await browser.newContext({
          viewport: { width: size.width ?? 1280, height: size.height ?? 900 },
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(`console: ${m.text()}`);
        });
        return { context, page, requests: new RequestLog(page, functionsBase), errors };
      },
      async screenshot(page, name) {
        const width = page.viewportSize()?.width ?? 0;
        const path = `${SCREENSHOT_DIR}/${name}-${width}.png`;
        await page.screenshot({ path, fullPage: true, animations: "disabled" });
        return path;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Reads the signed-in user's id from supabase-js's stored session. */
export function userIdOf(page: Page): Promise<string> {
  return page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i) ?? "";
      if (key.startsWith("sb-") && key.endsWith("-auth-token")) {
        const session = JSON.parse(localStorage.getItem(key) ?? "{}");
        if (session?.user?.id) return session.user.id as string;
      }
    }
    throw new Error("no stored Supabase session");
  });
}

/** The number in a "12 credits" text. */
export function creditsIn(text: string | null): number {
  const m = /(-?\d+)\s+credit/.exec(text ?? "");
  if (!m) throw new Error(`no credit amount in ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** One accessibility rule broken on a page, as axe-core reports it. */
export interface A11yViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.1 A and AA rules: labels, contrast, landmarks, ARIA…) on the page as it is
 * now and returns the violations of impact "serious" or "critical".
 */
export async function accessibilityViolations(page: Page): Promise<A11yViolation[]> {
  const source = (axe as unknown as { source: string }).source;
  await page.addScriptTag({ content: source });
  const found = await page.evaluate(async () => {
    const runner = (globalThis as unknown as {
      axe: {
        run(
          context: unknown,
          options: unknown,
        ): Promise<{
          violations: {
            id: string;
            impact: string | null;
            help: string;
            nodes: { target: string[] }[];
          }[];
        }>;
      };
    }).axe;
    const result = await runner.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}
