import assert from "node:assert/strict";
import { createFinalize } from "./finalize.ts";
import { fakeJobs, jobRow, silentLog } from "./testing/fakes.ts";
import { memoryStorage } from "./testing/pipeline_fakes.ts";

/** 2 s of 16-bit mono PCM at 8 kHz. */
function wav(): Uint8Array<ArrayBuffer> {
  const data = 8000 * 2 * 2;
  const out = new Uint8Array(44 + data);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  text(0, "RIFF");
  v.setUint32(4, 36 + data, true);
  text(8, "WAVE");
  text(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 16000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, "data");
  v.setUint32(40, data, true);
  return out;
}

/** The first bytes of a PNG (an image job must store an image). */
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

const ENV = {
  FAL_MEDIA_HOSTS: "fal.test",
  ALLOW_INSECURE_MEDIA: "false" as const,
  MEDIA_MAX_BYTES: 1_000_000,
  MEDIA_TIMEOUT_MS: 5_000,
};

function setup(kind: string, file: Uint8Array<ArrayBuffer>) {
  const mem = memoryStorage();
  const order: string[] = [];
  const job = jobRow({
    kind,
    status: "finalizing",
    result: { audio: { url: "https://fal.test/files/n.wav" } },
  });
  const { jobs, calls } = fakeJobs({
    recordMedia: (
      id,
      media,
    ) => (order.push("media"), Promise.resolve({ ...job, id, media } as never)),
    completed: () => (order.push("completed"), Promise.resolve(job)),
  });
  const fetch: typeof globalThis.fetch = (input, init) =>
    String(input instanceof Request ? input.url : input).startsWith("https://fal.test/")
      ? Promise.resolve(new Response(file, { headers: { "content-type": "audio/wav" } }))
      : mem.fetch(input, init);
  const finalize = createFinalize({ jobs, storage: mem.storage, env: ENV, log: silentLog, fetch });
  return { job, calls, order, finalize };
}

Deno.test("a narration's duration is recorded before it completes", async () => {
  const { job, calls, order, finalize } = setup("audio", wav());
  await finalize(job);
  assert.deepEqual(order, ["media", "completed"]);
  assert.deepEqual(calls.recordMedia?.[0], [job.id, { duration_ms: 2000, format: "wav" }]);
});

Deno.test("videos and images are completed without a probe", async () => {
  const { job, calls, order, finalize } = setup("image", PNG);
  await finalize(job);
  assert.deepEqual(order, ["completed"]);
  assert.equal(calls.recordMedia, undefined);
});
