/**
 * The platform's wall clock cuts fal-webhook's background media copy (it runs in
 * `EdgeRuntime.waitUntil`, which counts toward the worker's life): the job stays `finalizing`,
 * nothing is charged, and the reconciler finishes it later: the video lands in Storage, the job
 * completes and its credits are captured once. The result URL points at a media host this test
 * runs, which holds the first download open (a slow CDN) and serves the file to later ones.
 */
import assert from "node:assert/strict";
import { createFalSimControl } from "../../dev/fal_sim/control.ts";
import { loadSigner } from "../../dev/fal_sim/signing.ts";
import { logWatcher } from "../deploy/log_watcher.ts";
import { anonymousUser, call, ledgerOf, probeMedia, subscribeJobs } from "../e2e/helpers.ts";
import { startTestStack } from "../harness/stack.ts";

/** A CDN stand-in: the first GET stalls after its first bytes until the client goes away. */
function slowMediaHost() {
  let bytes = new Uint8Array(0);
  let requests = 0;
  let markStarted: () => void = () => {};
  let markCut: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const cut = new Promise<void>((resolve) => (markCut = resolve));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    const headers = { "content-type": "video/mp4", "content-length": String(bytes.length) };
    if (requests > 1) return new Response(bytes, { headers });
    markStarted();
    return new Response(
      new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(bytes.slice(0, 1024)),
        pull: () => new Promise<void>(() => {}),
        cancel: () => markCut(),
      }),
      { headers },
    );
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/results/video.mp4`,
    host: `127.0.0.1:${server.addr.port}`,
    serve(file: Uint8Array<ArrayBuffer>) {
      bytes = file;
    },
    /** The first download began / its connection was cut. */
    started,
    cut,
    requests: () => requests,
    stop: () => server.shutdown(),
  };
}

Deno.test({
  name: "a media copy cut by the wall clock is finished by the reconciler and charged once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const media = slowMediaHost();
    const localDir = await Deno.makeTempDir({ prefix: "vq-wallclock-" });
    if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
    const secret = crypto.randomUUID();
    const logs = logWatcher();
    try {
      await using s = await startTestStack({
        localDir,
        log: logs.log,
        env: {
          EDGE_WALL_CLOCK_S: "8",
          // The reconciler runs when this test says so (after the cut), not on a timer.
          RECONCILE_INTERVAL_S: "0",
          RECONCILE_SECRET: secret,
          WEBHOOK_GRACE_S: "1",
          FAL_MEDIA_HOSTS: media.host,
          MEDIA_TIMEOUT_MS: "120000",
        },
      });
      const control = createFalSimControl(s.stack.fal!);
      // fal finishes at once but its own webhook never arrives: this test sends one instead.
      await control.defaults({ durationMs: 100 });
      await control.webhookFaults({ dropRate: 1 });
      const signer = await loadSigner(`${localDir}/fal_sim`);

      const user = await anonymousUser(s);
      const jobs = await subscribeJobs(user);
      const created = await call(s, "generate-video", {
        token: user.token,
        body: { prompt: "a lighthouse in a storm", model: "minimax-video-01" },
      });
      assert.equal(created.status, 202, JSON.stringify(created.json));
      const job = created.json.job as { id: string; credits_cost: number };
      await jobs.waitFor((e) => e.id === job.id && e.status === "submitted");
      const [row] = await s.sql<{ provider_request_id: string }[]>`
        select provider_request_id from public.jobs where id = ${job.id}::uuid`;
      const requestId = row!.provider_request_id;
      const record = await control.waitFor(requestId, { until: "webhook_settled" });
      assert.equal(record.webhook.state, "dropped");

      // fal's own result, but its video is on the slow host.
      const webhook = JSON.parse(record.webhook.body!) as {
        payload: { video: { url: string } };
      };
      media.serve(new Uint8Array(await (await fetch(webhook.payload.video.url)).arrayBuffer()));
      webhook.payload.video.url = media.url;
      const body = new TextEncoder().encode(JSON.stringify(webhook));
      const delivered = await fetch(record.webhook.url!, {
        method: "POST",
        headers: { "content-type": "application/json", ...await signer.sign(requestId, body) },
        body,
      });
      assert.equal(delivered.status, 200, await delivered.text());

      // The copy runs in waitUntil after the answer, until the worker's wall clock ends it.
      await media.started;
      const [reached] = await logs.next(
        /\[fn:fal-webhook\] wall clock duration reached: worker \d+ .*pending waitUntil = 1/,
        60_000,
      );
      assert.ok(reached);
      await media.cut;
      const [cut] = await s.sql<{ status: string }[]>`
        select status from public.jobs where id = ${job.id}::uuid`;
      assert.equal(cut?.status, "finalizing", "the result is kept, the copy is not done");
      assert.deepEqual(await ledgerOf(s, job.id), { reserve: 1 }, "nothing charged yet");

      const reconciled = await call(s, "reconcile-jobs", {
        body: {},
        headers: { "x-reconcile-secret": secret },
      });
      assert.equal(reconciled.status, 200, JSON.stringify(reconciled.json));
      await jobs.waitFor((e) => e.id === job.id && e.status === "completed");
      assert.equal(media.requests(), 2, "the reconciler downloaded the file again");
      assert.deepEqual(await ledgerOf(s, job.id), { reserve: 1, capture: 1 });

      const one = await call(s, "video-jobs", {
        method: "GET",
        token: user.token,
        query: `?id=${job.id}`,
      });
      const { streams } = await probeMedia((one.json.job as { video_url: string }).video_url);
      assert.ok(streams.includes("video"), "the whole video was stored");
      await jobs.close();
    } finally {
      await media.stop();
      await Deno.remove(localDir, { recursive: true }).catch(() => {});
    }
  },
});
