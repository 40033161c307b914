/**
 * Property-based fuzzing (fast-check) of every function's input through the real stack: bodies,
 * query strings, methods, headers, tokens and webhook signatures that are invalid in some way.
 * Each one must get a 4xx JSON error `{"error":{"code","message"}}` — never a 5xx, never SQL, a
 * stack trace or a secret in the body — and must write no row (jobs, job events, ledger, Storage).
 * Runs are bounded (RUNS per property); a failure prints fast-check's seed and counterexample.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type FaultStack, MODELS, startFaultStack } from "./fault_stack.ts";
import { waitTerminal } from "./invariants.ts";

const RUNS = 60;

let stackPromise: Promise<FaultStack> | undefined;
const stack = () => stackPromise ??= startFaultStack();

interface Fixture {
  s: FaultStack;
  token: string;
  /** A job of another user (reading or acting on it must look like "no such job"). */
  foreignJob: string;
  /** Rows in jobs, job events, the ledger and Storage together. */
  rows(): Promise<number>;
  secrets: string[];
}

let fixturePromise: Promise<Fixture> | undefined;
const fixture = () =>
  fixturePromise ??= (async () => {
    const s = await stack();
    const user = await s.newUser(100);
    const other = await s.newUser(100);
    const made = await s.call("generate-video", {
      token: other.token,
      body: { prompt: "someone else's job", model: MODELS.video.id },
    });
    assert.equal(made.status, 202);
    const foreignJob = (made.json.job as { id: string }).id;
    const { stuck } = await waitTerminal(s.ts.sql, [foreignJob], 15_000);
    assert.deepEqual(stuck, []);
    return {
      s,
      token: user.token,
      foreignJob,
      secrets: [s.secret, s.ts.info.serviceRoleKey, s.ts.info.secretKey],
      async rows() {
        const [r] = await s.ts.sql<{ n: number }[]>`
          select ((select count(*) from public.jobs) + (select count(*) from public.job_events)
            + (select count(*) from public.credit_ledger)
            + (select count(*) from storage.objects))::int as n`;
        return r?.n ?? -1;
      },
    };
  })();

interface FuzzRequest {
  method: string;
  query?: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

const LEAKS =
  /\b(select|insert|update|delete)\b.*\b(from|into|set)\b|postgres|sqlstate|\.ts:\d+|\n\s+at /i;

/** Sends `req` to `fn` and checks the answer is a clean 4xx JSON error that wrote nothing. */
async function expectClientError(f: Fixture, fn: string, req: FuzzRequest): Promise<void> {
  const before = await f.rows();
  const res = await fetch(`${f.s.ts.info.supabaseUrl}/functions/v1/${fn}${req.query ?? ""}`, {
    method: req.method,
    headers: req.headers,
    body: req.body,
  });
  const text = await res.text();
  const where = `${fn} ${req.method} ${req.query ?? ""} → ${res.status} ${text.slice(0, 300)}`;
  assert.ok(res.status >= 400 && res.status < 500, `not a 4xx: ${where}`);
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new assert.AssertionError({ message: `not JSON: ${where}` });
  }
  assert.equal(typeof parsed.error?.code, "string", `no error code: ${where}`);
  assert.equal(typeof parsed.error?.message, "string", `no error message: ${where}`);
  assert.doesNotMatch(text, LEAKS, `leaks internals: ${where}`);
  for (const secret of f.secrets) assert.ok(!text.includes(secret), `leaks a secret: ${where}`);
  assert.equal(await f.rows(), before, `wrote a row: ${where}`);
}

function fuzzTest(name: string, fn: (f: Fixture) => Promise<void>) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => fn(await fixture()),
  });
}

const json = (v: unknown) => JSON.stringify(v);
const anyJson = fc.jsonValue({ maxDepth: 3 });
/** Any text (whole graphemes, so it can be URL-encoded). */
const text = fc.string({ maxLength: 80, unit: "grapheme" });
/** Text a header value may carry (printable ASCII). */
const headerText = fc.string({
  maxLength: 80,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const notUuid = fc.oneof(
  text.filter((t) => !/^[0-9a-f-]{36}$/i.test(t)),
  fc.constantFrom("", " ", "null", "1", "00000000-0000-0000-0000", "' or 1=1 --", "%00"),
);

/** Authorization headers that must never let anyone in. */
const badAuth = (f: Fixture) =>
  fc.oneof(
    fc.constant<Record<string, string>>({}),
    headerText.map((t) => ({ authorization: `Bearer ${t}` })),
    fc.constant({ authorization: `Bearer ${f.s.ts.info.anonKey}` }),
    fc.constant({ authorization: `Bearer ${f.s.ts.info.publishableKey}` }),
    fc.constant({ authorization: `Basic ${btoa("user:pass")}` }),
    fc.nat({ max: 40 }).map((i) => {
      // The user's own token with one character of its signature changed.
      const [h, p, sig = ""] = f.token.split(".");
      const at = i % Math.max(1, sig.length);
      const flipped = sig[at] === "A" ? "B" : "A";
      return {
        authorization: `Bearer ${h}.${p}.${sig.slice(0, at)}${flipped}${sig.slice(at + 1)}`,
      };
    }),
  ).map((h) => ({ apikey: f.s.ts.info.anonKey, "content-type": "application/json", ...h }));

const userHeaders = (f: Fixture, extra: Record<string, string> = {}) => ({
  apikey: f.s.ts.info.anonKey,
  authorization: `Bearer ${f.token}`,
  "content-type": "application/json",
  ...extra,
});

/** A valid generate-video body with exactly one thing wrong with it. */
const poisonedGenerate = fc.oneof(
  fc.constant({ model: MODELS.video.id }),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()))
    .map((prompt) => ({ prompt, model: MODELS.video.id })),
  fc.constantFrom("", "   ", "\n\t").map((prompt) => ({ prompt, model: MODELS.video.id })),
  fc.string({ minLength: 2001, maxLength: 2100 }).map((prompt) => ({ prompt })),
  fc.string({ minLength: 1, maxLength: 30 }).map((m) => ({ prompt: "x", model: `nope-${m}` })),
  fc.oneof(fc.integer({ min: -10, max: 0 }), fc.integer({ min: 121, max: 10_000 }), fc.double())
    .filter((d) => !Number.isInteger(d) || d <= 0 || d > 120)
    .map((duration) => ({ prompt: "x", model: MODELS.video.id, duration })),
  fc.integer({ min: 1, max: 120 }).filter((d) => d !== 6)
    .map((duration) => ({ prompt: "x", model: "minimax-video-01", duration })),
  fc.string({ minLength: 1, maxLength: 10 })
    .map((aspect_ratio) => ({ prompt: "x", model: MODELS.video.id, aspect_ratio })),
  fc.string({ minLength: 1, maxLength: 50 })
    .map((image_path) => ({ prompt: "x", model: MODELS.video.id, image_path })),
  fc.string({ minLength: 1, maxLength: 20 }).filter((k) =>
    !["prompt", "model", "duration", "aspect_ratio", "image_path", "idempotency_key"].includes(k) &&
    !k.startsWith("__")
  ).map((k) => ({ prompt: "x", model: MODELS.video.id, [k]: 1 })),
  fc.string({ minLength: 201, maxLength: 300 })
    .map((idempotency_key) => ({ prompt: "x", model: MODELS.video.id, idempotency_key })),
  fc.constantFrom("kling-1.6-pro", "minimax-video-01").chain((model) =>
    fc.constantFrom("4:3", "21:9", "1:2").map((aspect_ratio) => ({
      prompt: "x",
      model,
      aspect_ratio,
    }))
  ),
);

/** Raw bodies that are not a JSON object at all. */
const notAnObject = fc.oneof(
  anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)).map(json),
  fc.string({ maxLength: 60 }).filter((t) => {
    try {
      const v = JSON.parse(t);
      return typeof v !== "object" || v === null || Array.isArray(v);
    } catch {
      return true;
    }
  }),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => new Uint8Array([0xff, 0xfe, ...b])),
);

fuzzTest(
  "generate-video: any caller without a valid user token gets 401 and nothing is written",
  async (f) => {
    await fc.assert(
      fc.asyncProperty(
        badAuth(f),
        fc.oneof(anyJson.map(json), poisonedGenerate.map(json)),
        async (headers, body) => {
          await expectClientError(f, "generate-video", { method: "POST", headers, body });
        },
      ),
      { numRuns: RUNS },
    );
  },
);

fuzzTest(
  "generate-video: a body with something wrong gets a 4xx and reserves nothing",
  async (f) => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(poisonedGenerate.map(json), notAnObject),
        fc.option(fc.string({ minLength: 201, maxLength: 260 }), { nil: undefined }),
        async (body, key) => {
          const headers = userHeaders(f, key === undefined ? {} : { "idempotency-key": key });
          await expectClientError(f, "generate-video", { method: "POST", headers, body });
        },
      ),
      { numRuns: RUNS * 2 },
    );
  },
);

fuzzTest("generate-video: oversized bodies and other methods are refused", async (f) => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.constantFrom("GET", "PUT", "PATCH", "DELETE").map((method) => ({
          method,
          body: undefined,
        })),
        fc.integer({ min: 256 * 1024 + 1, max: 300 * 1024 }).map((n) => ({
          method: "POST",
          body: json({ prompt: "x".repeat(n) }),
        })),
      ),
      async ({ method, body }) => {
        await expectClientError(f, "generate-video", { method, headers: userHeaders(f), body });
      },
    ),
    { numRuns: 12 },
  );
});

fuzzTest("video-jobs: bad ids, cursors, actions and other users' jobs are 4xx", async (f) => {
  const action = fc.constantFrom("cancel", "retry", "delete");
  const request = fc.oneof(
    // (An empty `?id=` lists the jobs, like no id at all.)
    notUuid.filter((id) => id !== "").map((id) => ({
      method: "GET",
      query: `?id=${encodeURIComponent(id)}`,
    })),
    fc.uuid().map((id) => ({ method: "GET", query: `?id=${id}` })),
    fc.constant({ method: "GET", query: `?id=${f.foreignJob}` }),
    text.map((c) => ({ method: "GET", query: `?cursor=${encodeURIComponent(c || "x")}` })),
    fc.oneof(
      fc.record({ action: text, id: fc.uuid() }),
      fc.record({ action, id: notUuid }),
      fc.record({ action, id: fc.uuid() }),
      action.map((a) => ({ action: a, id: f.foreignJob })),
      fc.record({ action, id: fc.uuid(), extra: anyJson }),
      anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
    ).map((body) => ({ method: "POST", body: json(body) })),
    fc.constantFrom("PUT", "PATCH", "DELETE").map((method) => ({ method })),
  );
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      await expectClientError(f, "video-jobs", { ...r, headers: userHeaders(f) });
    }),
    { numRuns: RUNS * 2 },
  );
  await fc.assert(
    fc.asyncProperty(badAuth(f), async (headers) => {
      await expectClientError(f, "video-jobs", { method: "GET", headers });
    }),
    { numRuns: RUNS / 2 },
  );
});

fuzzTest("fal-webhook: unsigned, mis-signed, stale and unknown deliveries are 4xx", async (f) => {
  const signer = f.s.signer;
  const webhookBody = fc.oneof(
    anyJson.map(json),
    fc.record({
      request_id: fc.oneof(fc.uuid(), text),
      status: fc.oneof(fc.constantFrom("OK", "ERROR"), text),
      payload: anyJson,
      error: fc.option(text, { nil: undefined }),
    }).map(json),
  );
  const delivery = fc.oneof(
    // Unsigned or signed with made-up headers.
    fc.tuple(
      webhookBody,
      fc.dictionary(
        fc.constantFrom(
          "x-fal-webhook-request-id",
          "x-fal-webhook-user-id",
          "x-fal-webhook-timestamp",
          "x-fal-webhook-signature",
        ),
        headerText,
      ),
    ).map(([body, headers]) => ({ body, headers, query: "" })),
    // Properly signed, but stale or from the future.
    fc.record({
      rid: fc.uuid(),
      skew: fc.integer({ min: 301, max: 86_400 }),
      future: fc.boolean(),
    }).map(({ rid, skew, future }) => ({ rid, skew: future ? skew : -skew })),
    // Properly signed and fresh, for a request no job is waiting for.
    fc.tuple(fc.uuid(), webhookBody, fc.option(fc.uuid(), { nil: undefined })).map((
      [rid, body, jobId],
    ) => ({ rid, body, jobId })),
  );
  await fc.assert(
    fc.asyncProperty(delivery, async (d) => {
      let req: FuzzRequest;
      if ("headers" in d) {
        req = {
          method: "POST",
          headers: { "content-type": "application/json", ...d.headers },
          body: d.body,
        };
      } else if ("skew" in d) {
        const raw = new TextEncoder().encode(
          json({ request_id: d.rid, status: "OK", payload: {} }),
        );
        const headers = await signer.sign(d.rid, raw, {
          timestampSeconds: Math.floor(Date.now() / 1000) + d.skew,
        });
        req = {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: raw,
        };
      } else {
        // Body and signed request id agree only sometimes; either way no job waits for it.
        const raw = new TextEncoder().encode(d.body);
        const headers = await signer.sign(d.rid, raw);
        req = {
          method: "POST",
          query: d.jobId ? `?job_id=${d.jobId}` : "",
          headers: { "content-type": "application/json", ...headers },
          body: raw,
        };
      }
      await expectClientError(f, "fal-webhook", req);
    }),
    { numRuns: RUNS * 2 },
  );
  await expectClientError(f, "fal-webhook", { method: "GET", headers: {} });
});

fuzzTest(
  "reconcile-jobs: without the secret every call is 401 (or 405) and runs nothing",
  async (f) => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "GET", "PUT"),
        fc.oneof(
          fc.constant<Record<string, string>>({}),
          headerText.map((t) => ({ "x-reconcile-secret": t })),
          fc.constant({ "x-reconcile-secret": f.s.secret.slice(0, -1) }),
          fc.constant({ "x-reconcile-secret": f.s.secret.toUpperCase() }),
          fc.constant({ authorization: `Bearer ${f.s.secret}` }),
          fc.constant({ authorization: `Bearer ${f.s.ts.info.serviceRoleKey}` }),
        ),
        fc.option(anyJson.map(json), { nil: undefined }),
        async (method, headers, body) => {
          await expectClientError(f, "reconcile-jobs", {
            method,
            headers,
            body: method === "GET" ? undefined : body,
          });
        },
      ),
      { numRuns: RUNS },
    );
  },
);

Deno.test({
  name: "fuzz stack shuts down",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (stackPromise) await (await stackPromise).stop();
  },
});
