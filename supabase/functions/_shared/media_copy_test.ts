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
  };
  return { storage, objects };
}

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
    () => new Response(new Uint8Array(100).fill(7), { headers: { "content-type": "video/mp4" } }),
    async (base, port) => {
      const { storage, objects } = memoryStorage();
      const type = await copyMedia(
        `${base}/a.mp4`,
        { storage, bucket: "videos", path: "u/j.mp4" },
        opts(port),
      );
      assert.equal(type, "video/mp4");
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
        copyMedia(`${base}/a.mp4`, { storage, bucket: "videos", path: "u/j.mp4" }, opts(port)),
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
      copyMedia(
        `${base}/a.mp4`,
        { storage, bucket: "videos", path: "p" },
        opts(port, { allowInsecure: false }),
      ),
      /non-https/,
    );
  });
});

Deno.test("media over the size cap is refused, whether declared or streamed", async () => {
  await withServer((req) => {
    const big = new Uint8Array(4096);
    if (new URL(req.url).pathname === "/declared.mp4") return new Response(big);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512));
        c.close();
      },
    });
    return new Response(stream);
  }, async (base, port) => {
    const { storage, objects } = memoryStorage();
    for (const name of ["declared.mp4", "streamed.mp4"]) {
      await assert.rejects(
        copyMedia(`${base}/${name}`, { storage, bucket: "videos", path: name }, opts(port)),
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
        copyMedia(`${base}/gone`, { storage, bucket: "v", path: "p" }, opts(port)),
        (e: unknown) => e instanceof MediaError && !e.transient,
      );
      await assert.rejects(
        copyMedia(`${base}/busy`, { storage, bucket: "v", path: "p" }, opts(port)),
        (e: unknown) => e instanceof MediaError && e.transient,
      );
    },
  );
});
