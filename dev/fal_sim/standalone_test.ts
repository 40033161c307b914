/**
 * `deno task sim`: the simulator on its own, as `supabase functions serve` users run it, handing
 * out URLs under the name the functions container reaches it by (FAL_SIM_PUBLIC_URL).
 */
import assert from "node:assert/strict";
import { freePort } from "../ports.ts";
import { createFalSimControl } from "./control.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno task sim serves fal's queue with URLs under FAL_SIM_PUBLIC_URL", async () => {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "vq-sim-" });
  const publicUrl = `http://host.docker.internal:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "sim"],
    cwd: ROOT,
    env: {
      FAL_SIM_PORT: String(port),
      FAL_SIM_DATA_DIR: dataDir,
      FAL_SIM_PUBLIC_URL: publicUrl,
      FAL_SIM_DURATION_MS: "50",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    // Wait for its announcement (the media are generated first; bounded by the test runner).
    let out = "";
    while (!/control token[^\n]*: \S+\n/.test(out)) {
      const { value, done } = await lines.read();
      if (done) assert.fail(`deno task sim exited early:\n${out}`);
      out += value;
    }
    assert.match(out, new RegExp(`FAL_QUEUE_BASE_URL=${publicUrl} `));
    assert.match(out, new RegExp(`FAL_MEDIA_HOSTS=host\\.docker\\.internal:${port}`));

    const local = `http://127.0.0.1:${port}`;
    const submitted = await fetch(`${local}/fal-ai/minimax/video-01`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Key test" },
      body: JSON.stringify({ prompt: "a lighthouse at dusk" }),
    });
    assert.equal(submitted.status, 200);
    const queued = await submitted.json();
    assert.equal(
      queued.status_url,
      `${publicUrl}/fal-ai/minimax/requests/${queued.request_id}/status`,
    );

    const controlToken = /control token[^\n]*: (\S+)\n/.exec(out)![1]!;
    await createFalSimControl({ controlUrl: `${local}/_sim`, controlToken }).waitFor(
      queued.request_id,
      { until: "completed" },
    );
    const result = await fetch(`${local}/fal-ai/minimax/requests/${queued.request_id}`);
    assert.equal(result.status, 200);
    const video = (await result.json()).video as { url: string };
    assert.ok(video.url.startsWith(`${publicUrl}/media/`), video.url);
    const media = await fetch(video.url.replace(publicUrl, local));
    assert.equal(media.status, 200);
    await media.body?.cancel();
  } finally {
    child.kill("SIGINT");
    await lines.cancel().catch(() => {});
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
  }
});
