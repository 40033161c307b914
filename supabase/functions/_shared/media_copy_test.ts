import assert from "node:assert/strict";
import {
  copyMedia,
  hostAllowed,
  type MediaCopyOptions,
  MediaError,
  parseHosts,
  type StorageApi,
} from "./media_copy.ts";

Deno.test("the media host allowlist takes exact hosts, host:port and subdomain entries", () => {
  const allowed = parseHosts("fal.media, .fal.media,127.0.0.1:9999,*.example.org");
  assert.ok(hostAllowed(new URL("https://fal.media/x"), allowed));
  assert.ok(hostAllowed(new URL("https://v3.fal.media/x"), allowed));
  assert.ok(hostAllowed(new URL("http://127.0.0.1:9999/x"), allowed));
  assert.ok(hostAllowed(new URL("https://a.b.example.org/x"), allowed));
  assert.ok(!hostAllowed(new URL("https://evilfal.media/x"), allowed));
  assert.ok(!hostAllowed(new URL("http://127.0.0.1:9998/x"), allowed));
  assert.ok(!hostAllowed(new URL("https://fal.media.evil.com/x"), allowed));
});

function memoryStorage() {
  const objects = new Map<string, Uint8Array>();
  const storage: StorageApi = {
    async upload(bucket, path, body) {
      const bytes = new Uint8Array(await new Response(body).arrayBuffer());
      objects.set(`${bucket}/${path}`, bytes);
    },
    sign: () => Promise.resolve([]),
    remove: () => Promise.resolve(),
    copy: () => Promise.resolve(),
  };
  return { storage, objects };
}

/** The start of an MP4 (an `ftyp` box, brand isom) padded to `size` bytes. */
function mp4(size = 100): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size).fill(7);
  out.set([0, 0, 0, 0x18, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  out.set(new TextEncoder().encode("isomiso2mp41"), 12);
  return out;
}

/** A video job's target: `<path>.<ext from the bytes>`. */
const video = (storage: StorageApi, path: string, bucket = "videos") => ({
  storage,
  bucket,
  kind: "video",
  pathFor: (t: { ext: string }) => `${path}.${t.ext}`,
});

async function withServer(
  handler: (req: Request, base: string) => Response,
  fn: (base: string, port: number) => Promise<void>,
) {
  const ac = new AbortController();
  let base = "";
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    signal: ac.signal,
    onListen: () => {},
  }, (req) => handler(req, base));
  const port = server.addr.port;
  base = `http://127.0.0.1:${port}`;
  try {
    await fn(base, port);
  } finally {
    ac.abort();
    await server.finished;
  }
}

const opts = (port: number, over: Partial<MediaCopyOptions> = {}): MediaCopyOptions => ({
  allowedHosts: [`127.0.0.1:${port}`],
  allowInsecure: true,
  maxBytes: 1024,
  timeoutMs: 5000,
  ...over,
});

Deno.test("media is streamed into storage from an allowed host", async () => {
  await withServer(
    () => new Response(mp4(), { headers: { "content-type": "video/mp4" } }),
    async (base, port) => {
      const { storage, objects } = memoryStorage();
      const copied = await copyMedia(`${base}/a.mp4`, video(storage, "u/j"), opts(port));
      assert.equal(copied.contentType, "video/mp4");
      assert.equal(objects.get("videos/u/j.mp4")?.length, 100);
    },
  );
});

Deno.test("a redirect to a host that is not allowed is refused", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/a.mp4"
        ? new Response(null, { status: 302, headers: { location: "http://127.0.0.2:1/evil.mp4" } })
        : new Response("x"),
    async (base, port) => {
      const { storage, objects } = memoryStorage();
      await assert.rejects(
        copyMedia(`${base}/a.mp4`, video(storage, "u/j"), opts(port)),
        (e: unknown) => e instanceof MediaError && !e.transient && /not allowed/.test(e.message),
      );
      assert.equal(objects.size, 0);
    },
  );
});

Deno.test("plain http is refused unless insecure media is allowed (dev only)", async () => {
  await withServer(() => new Response("x"), async (base, port) => {
    const { storage } = memoryStorage();
    await assert.rejects(
      copyMedia(`${base}/a.mp4`, video(storage, "p"), opts(port, { allowInsecure: false })),
      /non-https/,
    );
  });
});

Deno.test("media over the size cap is refused, whether declared or streamed", async () => {
  await withServer((req) => {
    const big = mp4(4096);
    if (new URL(req.url).pathname === "/declared.mp4") return new Response(big);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(i === 0 ? mp4(512) : new Uint8Array(512));
        c.close();
      },
    });
    return new Response(stream);
  }, async (base, port) => {
    const { storage, objects } = memoryStorage();
    for (const name of ["declared.mp4", "streamed.mp4"]) {
      await assert.rejects(
        copyMedia(`${base}/${name}`, video(storage, name), opts(port)),
        /larger than 1024/,
      );
    }
    assert.equal(objects.size, 0);
  });
});

Deno.test("a 404 result URL is a permanent failure, a 503 a transient one", async () => {
  await withServer(
    (req) => new Response("no", { status: new URL(req.url).pathname === "/gone" ? 404 : 503 }),
    async (base, port) => {
      const { storage } = memoryStorage();
      await assert.rejects(
        copyMedia(`${base}/gone`, video(storage, "p", "v"), opts(port)),
        (e: unknown) => e instanceof MediaError && !e.transient,
      );
      await assert.rejects(
        copyMedia(`${base}/busy`, video(storage, "p", "v"), opts(port)),
        (e: unknown) => e instanceof MediaError && e.transient,
      );
    },
  );
});

Deno.test("an HTML page announced as video/mp4 at a .mp4 URL is refused for good and nothing is stored", async () => {
  const page = "<!doctype html><script>alert(document.cookie)</script>";
  await withServer(
    () => new Response(page, { headers: { "content-type": "video/mp4" } }),
    async (base, port) => {
      const { storage, objects } = memoryStorage();
      await assert.rejects(
        copyMedia(`${base}/result.mp4`, video(storage, "u/j"), opts(port)),
        (e: unknown) =>
          e instanceof MediaError && !e.transient && e.code === "media_type_not_allowed" &&
          /not an allowed format \(mp4, webm\); it was announced as video\/mp4/.test(e.message),
      );
      assert.equal(objects.size, 0);
    },
  );
});

Deno.test("the stored extension and type come from the bytes, not the URL or the announced type", async () => {
  await withServer(
    () => new Response(mp4(300), { headers: { "content-type": "text/html" } }),
    async (base, port) => {
      const { storage, objects } = memoryStorage();
      const copied = await copyMedia(`${base}/page.html`, video(storage, "u/j"), opts(port));
      assert.deepEqual([copied.path, copied.contentType], ["u/j.mp4", "video/mp4"]);
      assert.deepEqual(objects.get("videos/u/j.mp4"), mp4(300), "every byte, the peeked ones too");
      await assert.rejects(
        copyMedia(`${base}/page.html`, { ...video(storage, "u/i"), kind: "image" }, opts(port)),
        (e: unknown) => e instanceof MediaError && e.code === "media_type_not_allowed",
        "an MP4 is not an image",
      );
    },
  );
});
