import assert from "node:assert/strict";
import { createFalGateway, FalError, isSubmitRefusal } from "./fal.ts";

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

Deno.test("a refused submit carries fal's Retry-After (seconds or HTTP date) and counts as a refusal", async () => {
  const answers = [
    () => Response.json({ detail: "slow down" }, { status: 429, headers: { "retry-after": "7" } }),
    () =>
      new Response("<html>503</html>", {
        status: 503,
        headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() },
      }),
    () => Response.json({ detail: "bad" }, { status: 422, headers: { "retry-after": "5" } }),
  ];
  let n = 0;
  await withFakeFal(() => answers[n++]!(), async (base) => {
    const fal = createFalGateway({ queueBaseUrl: base });
    const submit = () => fal.submit("fal-ai/x", { prompt: "p" }, "https://x/h").catch((e) => e);
    const limited = await submit();
    assert.ok(limited instanceof FalError && isSubmitRefusal(limited));
    assert.equal(limited.retryAfterS, 7);
    const busy = await submit();
    assert.ok(busy instanceof FalError && isSubmitRefusal(busy));
    assert.ok(busy.retryAfterS! > 55 && busy.retryAfterS! <= 60, String(busy.retryAfterS));
    const rejected = await submit();
    assert.ok(rejected instanceof FalError && !isSubmitRefusal(rejected), "a 422 is not");
  });
  assert.ok(
    isSubmitRefusal(new FalError("fal unreachable", null, true)),
    "fal unreachable is a refusal",
  );
});
