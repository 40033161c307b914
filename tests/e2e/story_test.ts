/**
 * Multi-scene stories end to end through supabase-js and the running stack, with the fal
 * simulator as fal (real PNGs, WAVs and a compose endpoint that really renders): one image job per
 * scene, its narration once the image is done, a compose job once every scene is done; the
 * story's progress and stages arrive over Realtime; a failure fails the story cleanly and a retry
 * redoes only what is missing. Set VQ_STORY_TIMINGS=1 to print the stage timings.
 */
import assert from "node:assert/strict";
import { type FalSimControl } from "../../dev/fal_sim/control.ts";
import { type TestStack } from "../harness/stack.ts";
import {
  anonymousUser,
  call,
  e2eSuite,
  type JobEvent,
  probeMedia,
  type SignedIn,
  subscribeJobs,
} from "./helpers.ts";

const IMAGE = "fal-ai/flux/schnell";
const TTS = "fal-ai/kokoro/american-english";
const COMPOSE = "fal-ai/ffmpeg-api/compose";

const { stack, control, test: e2eTest, stop } = e2eSuite();

type Child = {
  id: string;
  kind: string;
  item: number | null;
  status: string;
  cost: number;
  retry_of: string | null;
  submitted_at: Date | null;
  completed_at: Date | null;
  storage_path: string | null;
  media: { duration_ms?: number } | null;
};

async function childrenOf(s: TestStack, parentId: string): Promise<Child[]> {
  return await s.sql<Child[]>`
    select id, kind, item, status, cost, retry_of, submitted_at, completed_at, storage_path, media
    from public.jobs where parent_id = ${parentId}::uuid
    order by item nulls last, kind`;
}

async function ledgerTotals(s: TestStack, parentId: string): Promise<Record<string, number>> {
  const rows = await s.sql<{ kind: string; amount: number }[]>`
    select l.kind, sum(l.amount)::int as amount from public.credit_ledger l
    join public.jobs j on j.id = l.job_id where j.parent_id = ${parentId}::uuid group by l.kind`;
  return Object.fromEntries(rows.map((r) => [r.kind, r.amount]));
}

async function credits(s: TestStack, user: SignedIn) {
  const res = await call(s, "video-jobs", { method: "GET", token: user.token });
  return res.json.credits as { available: number; reserved: number };
}

async function signedUrlOf(s: TestStack, user: SignedIn, id: string): Promise<string> {
  const res = await call(s, "video-jobs", { method: "GET", token: user.token, query: `?id=${id}` });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const url = (res.json.job as { video_url: string | null }).video_url;
  assert.ok(url, `job ${id} has a signed URL`);
  return url;
}

async function createStory(user: SignedIn, body: Record<string, unknown>) {
  const invoked = await user.client.functions.invoke("generate-video", { body });
  assert.equal(invoked.error, null, String(invoked.error));
  assert.equal(invoked.response?.status, 202);
  return invoked.data as { parent: JobEvent; jobs: JobEvent[] };
}

async function simRequests(ctl: FalSimControl, endpoint: string): Promise<number> {
  return (await ctl.requests()).filter((r) => r.endpointId === endpoint).length;
}

const SCENES = [
  {
    text: "Once upon a time a small robot woke up in a quiet workshop.",
    image_prompt: "a small robot waking up in a workshop, warm light",
  },
  { text: "It rolled to the window and saw the city for the first time." },
  { text: "Lights everywhere.", image_prompt: "a glowing city at night seen through a window" },
  {
    text:
      "The robot decided to go outside and explore every street, every park and every bridge it could find.",
  },
  { text: "And so the adventure began." },
];

e2eTest(
  "a five-scene story goes image → narration → compose, live over Realtime, and its video lasts as long as its narrations",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.endpoint(IMAGE, { durationMs: 2000 });
    await ctl.endpoint(TTS, { durationMs: 1500 });
    await ctl.endpoint(COMPOSE, { durationMs: 1000 });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const before = await credits(s, user);

    const started = performance.now();
    const created = await createStory(user, { kind: "story", title: "The robot", scenes: SCENES });
    const answeredMs = performance.now() - started;
    const story = created.parent;
    assert.equal(story.kind, "story");
    assert.equal(created.jobs.length, 11, "5 images, 5 narrations, 1 compose job");
    assert.equal((story as { credits_cost?: number }).credits_cost, 11);

    const done = await jobs.waitFor((e) => e.id === story.id && e.status === "completed", 120_000);
    const totalMs = performance.now() - started;
    assert.equal((done as { progress?: number }).progress, 100);

    // What the user saw live: the story's own events, in version order, with rising progress.
    const storyEvents = jobs.events.filter((e) => e.id === story.id);
    const versions = storyEvents.map((e) => e.version);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), "story events in order");
    const progress = storyEvents.map((e) => e.progress as number);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress never goes back");
    const stages = [
      ...new Set(
        storyEvents.filter((e) => e.pipeline).map((e) => (e.pipeline as { stage: string }).stage),
      ),
    ];
    assert.deepEqual(stages.filter((st) => st !== "narration"), ["images", "compose", "done"]);
    for (const child of created.jobs) {
      assert.ok(
        jobs.events.some((e) => e.id === child.id && e.status === "completed"),
        `child ${child.id} was seen completing`,
      );
    }

    // The stages ran in order: a narration after its scene's image, compose after everything.
    const children = await childrenOf(s, story.id);
    const byItem = (kind: string, item: number) =>
      children.find((c) => c.kind === kind && c.item === item)!;
    for (let item = 1; item <= SCENES.length; item++) {
      const image = byItem("image", item);
      const narration = byItem("audio", item);
      assert.ok(
        narration.submitted_at! >= image.completed_at!,
        `scene ${item}: narration after image`,
      );
      assert.ok(
        (narration.media?.duration_ms ?? 0) > 0,
        `scene ${item}: narration duration recorded`,
      );
    }
    const compose = children.find((c) => c.kind === "compose")!;
    const lastScene = Math.max(
      ...children.filter((c) => c.kind !== "compose").map((c) => c.completed_at!.getTime()),
    );
    assert.ok(compose.submitted_at!.getTime() >= lastScene, "compose after every scene");

    // The story's video is the composed one, as long as its narrations together.
    const video = await probeMedia(await signedUrlOf(s, user, story.id));
    assert.ok(
      video.streams.includes("video") && video.streams.includes("audio"),
      video.streams.join(),
    );
    let narrations = 0;
    for (let item = 1; item <= SCENES.length; item++) {
      const audio = await probeMedia(await signedUrlOf(s, user, byItem("audio", item).id));
      narrations += audio.seconds;
    }
    assert.ok(
      Math.abs(video.seconds - narrations) < 0.25,
      `video ${video.seconds.toFixed(2)} s vs narrations ${narrations.toFixed(2)} s`,
    );

    // Every child was charged once; nothing stays reserved.
    const after = await credits(s, user);
    assert.deepEqual(after, { available: before.available - 11, reserved: 0 });
    assert.deepEqual(await ledgerTotals(s, story.id), { reserve: 11, capture: 11 });

    const span = (kind: string) => {
      const list = children.filter((c) => c.kind === kind);
      const first = Math.min(...list.map((c) => c.submitted_at!.getTime()));
      const last = Math.max(...list.map((c) => c.completed_at!.getTime()));
      return {
        first: first - started - performance.timeOrigin,
        last: last - started - performance.timeOrigin,
      };
    };
    if (Deno.env.get("VQ_STORY_TIMINGS")) {
      const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      console.log(
        `\n5-scene story through the simulator (2 fal slots; image 2 s, TTS 1.5 s, compose 1 s + render):`,
      );
      console.log(`  202 answered after        ${fmt(answeredMs)}`);
      for (const kind of ["image", "audio", "compose"]) {
        const sp = span(kind);
        console.log(`  ${kind.padEnd(8)} first submit ${fmt(sp.first)}, last done ${fmt(sp.last)}`);
      }
      console.log(`  completed event after     ${fmt(totalMs)}`);
      console.log(`  video ${video.seconds.toFixed(2)} s; narrations ${narrations.toFixed(2)} s`);
    }
    await jobs.close();
  },
);

e2eTest(
  "a failed compose fails the story cleanly; its retry reuses every finished scene",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.endpoint(IMAGE, { durationMs: 100 });
    await ctl.endpoint(TTS, { durationMs: 100 });
    await ctl.endpoint(COMPOSE, {
      durationMs: 100,
      errorRate: 1,
      failureType: "runner_server_error",
    });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const before = await credits(s, user);
    const scenes = [{ text: "One two three." }, { text: "Four five." }, { text: "Six." }];
    const { parent } = await createStory(user, { kind: "story", scenes });
    const failed = await jobs.waitFor((e) => e.id === parent.id && e.status === "failed", 60_000);
    assert.equal((failed.error as { code: string }).code, "compose_failed");
    assert.deepEqual(await ledgerTotals(s, parent.id), { reserve: 7, capture: 6, release: 1 });
    assert.deepEqual(await credits(s, user), { available: before.available - 6, reserved: 0 });

    const images = await simRequests(ctl, IMAGE);
    const narrations = await simRequests(ctl, TTS);
    await ctl.endpoint(COMPOSE, { errorRate: 0 });
    const retried = await user.client.functions.invoke("generate-video", {
      body: { retry_of: parent.id },
    });
    assert.equal(retried.error, null, String(retried.error));
    const retry = (retried.data as { parent: JobEvent }).parent;
    assert.equal(retry.retry_of, parent.id);
    await jobs.waitFor((e) => e.id === retry.id && e.status === "completed", 60_000);

    assert.equal(await simRequests(ctl, IMAGE), images, "no image was made again");
    assert.equal(await simRequests(ctl, TTS), narrations, "no narration was made again");
    const children = await childrenOf(s, retry.id);
    assert.equal(
      children.filter((c) => c.kind !== "compose" && c.cost === 0 && c.retry_of).length,
      6,
    );
    assert.deepEqual(await credits(s, user), { available: before.available - 7, reserved: 0 });
    const video = await probeMedia(await signedUrlOf(s, user, retry.id));
    assert.ok(video.seconds > 1, "the retried story has its video");
    await jobs.close();
  },
);

e2eTest(
  "a narration failing for good fails the story: waiting work is released, finished images kept for the retry",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.endpoint(IMAGE, { durationMs: 100 });
    await ctl.endpoint(TTS, { durationMs: 100, errorRate: 1, failureType: "runner_server_error" });
    await ctl.endpoint(COMPOSE, { durationMs: 100 });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const before = await credits(s, user);
    const scenes = [{ text: "Alpha." }, { text: "Beta." }, { text: "Gamma." }];
    const { parent } = await createStory(user, { kind: "story", scenes });

    const failing = await jobs.waitFor((e) => e.id === parent.id && e.error !== null, 60_000);
    assert.equal((failing.error as { code: string }).code, "scene_failed");
    assert.match((failing.error as { message: string }).message, /^Scene \d \(narration\) failed/);
    await jobs.waitFor((e) => e.id === parent.id && e.status === "failed", 60_000);

    const children = await childrenOf(s, parent.id);
    assert.equal(
      children.find((c) => c.kind === "compose")?.status,
      "canceled",
      "compose never ran",
    );
    assert.ok(children.every((c) => ["completed", "failed", "canceled"].includes(c.status)));
    const kept = children.filter((c) => c.kind === "image" && c.status === "completed");
    const charged = children.filter((c) => c.status === "completed").length;
    assert.deepEqual(await credits(s, user), {
      available: before.available - charged,
      reserved: 0,
    });

    const images = await simRequests(ctl, IMAGE);
    await ctl.endpoint(TTS, { errorRate: 0 });
    const retried = await user.client.functions.invoke("generate-video", {
      body: { retry_of: parent.id },
    });
    assert.equal(retried.error, null, String(retried.error));
    const retry = (retried.data as { parent: JobEvent }).parent;
    await jobs.waitFor((e) => e.id === retry.id && e.status === "completed", 60_000);
    assert.equal(
      await simRequests(ctl, IMAGE),
      images + (scenes.length - kept.length),
      "only images that had not completed were made again",
    );
    const reused = (await childrenOf(s, retry.id)).filter((c) =>
      c.kind === "image" && c.cost === 0
    );
    assert.deepEqual(reused.map((c) => c.retry_of).sort(), kept.map((c) => c.id).sort());
    await jobs.close();
  },
);

e2eTest("stop the story stack", async () => {
  await stop();
});
