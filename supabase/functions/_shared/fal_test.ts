import assert from "node:assert/strict";
import { createFalGateway, FalError } from "./fal.ts";

async function withFakeFal(
  answer: (req: Request) => Response,
  fn: (base: string, seen: Request[]) => Promise<void>,
) {
  const seen: Request[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
    (req) => (seen.push(req.clone()), answer(req)),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    ac.abort();
    await server.finished;
  }
}

Deno.test("submit posts the input with the key and the webhook URL and returns fal's request id", async () => {
  await withFakeFal(
    () => Response.json({ request_id: "req-42", status: "IN_QUEUE" }),
    async (base, seen) => {
      const fal = createFalGateway({ falKey: "k", queueBaseUrl: base });
      const id = await fal.submit(
        "fal-ai/minimax/video-01",
        { prompt: "a cat" },
        "https://x/hook?job_id=1",
      );
      assert.equal(id, "req-42");
      const req = seen[0]!;
      const url = new URL(req.url);
      assert.equal(url.pathname, "/fal-ai/minimax/video-01");
      assert.equal(url.searchParams.get("fal_webhook"), "https://x/hook?job_id=1");
      assert.equal(req.headers.get("authorization"), "Key k");
      assert.deepEqual(await req.json(), { prompt: "a cat" });
    },
  );
});

Deno.test("a 503 submit is one request, reported as transient without fal's HTML page", async () => {
  await withFakeFal(
    () =>
      new Response("<html><body>503 Service Temporarily Unavailable</body></html>", {
        status: 503,
      }),
    async (base, seen) => {
      const fal = createFalGateway({ queueBaseUrl: base });
      const err = await fal.submit("fal-ai/x", { prompt: "p" }, "https://x/h").catch((e) => e);
      assert.ok(err instanceof FalError && err.transient && err.status === 503);
      assert.doesNotMatch(err.message, /<html/);
      assert.equal(
        seen.length,
        1,
        "never retried by the client: a retry could be a second billed request",
      );
    },
  );
});

Deno.test("a 422 submit is a permanent rejection carrying fal's detail", async () => {
  await withFakeFal(
    () => Response.json({ detail: "prompt: field required" }, { status: 422 }),
    async (base) => {
      const fal = createFalGateway({ queueBaseUrl: base });
      const err = await fal.submit("fal-ai/x", {}, "https://x/h").catch((e) => e);
      assert.ok(err instanceof FalError && !err.transient);
      assert.match(err.message, /field required/);
    },
  );
});
