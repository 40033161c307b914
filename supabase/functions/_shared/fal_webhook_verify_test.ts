/**
 * Test vectors for our fal webhook verifier: it accepts what the fal simulator (which signs the
 * way fal documents) really delivered, and rejects a tampered body, a key outside the JWKS, a
 * timestamp 10 minutes old and malformed headers; it caches the JWKS (at most 24 h) and refetches
 * once, rate-limited, when keys rotate.
 */
import assert from "node:assert/strict";
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  withSimulator,
} from "../../../dev/fal_sim/testing.ts";
import { createWebhookVerifier } from "./fal_webhook_verify.ts";

const ENDPOINT = "fal-ai/flux/dev";

/** Counts the JWKS requests a verifier makes (real fetch underneath, no fake answers). */
function countingFetch() {
  const calls: string[] = [];
  const f: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };
  return { fetch: f, calls };
}

/** Completes one request with a webhook and returns the delivery as the receiver saw it. */
async function deliveredWebhook(
  ctx: Parameters<Parameters<typeof withSimulator>[1]>[0],
): Promise<ReceivedWebhook> {
  const hook = startWebhookReceiver();
  try {
    await ctx.control.endpoint(ENDPOINT, { durationMs: 5 });
    await ctx.fal.queue.submit(ENDPOINT, { input: { prompt: "a dog" }, webhookUrl: hook.url });
    const [webhook] = await hook.waitFor(1);
    return webhook!;
  } finally {
    await hook.stop();
  }
}

Deno.test("accepts a webhook the simulator delivered, over its raw bytes", async () => {
  await withSimulator({}, async (ctx) => {
    const webhook = await deliveredWebhook(ctx);
    const verifier = createWebhookVerifier({ jwksUrl: ctx.sim.jwksUrl });
    const result = await verifier.verify(webhook.headers, webhook.raw);
    assert.deepEqual(result, {
      ok: true,
      requestId: webhook.body.request_id,
      userId: webhook.headers.get("x-fal-webhook-user-id"),
    });
    // The same bytes as a string verify too; the fal body shape is what fal documents.
    assert.equal(
      (await verifier.verify(webhook.headers, new TextDecoder().decode(webhook.raw))).ok,
      true,
    );
    assert.deepEqual(Object.keys(webhook.body).sort(), [
      "gateway_request_id",
      "payload",
      "request_id",
      "status",
    ]);
  });
});

Deno.test("rejects a tampered body, a wrong key, a 10-minute-old timestamp and broken headers", async () => {
  await withSimulator({}, async (ctx) => {
    const webhook = await deliveredWebhook(ctx);
    const verifier = createWebhookVerifier({ jwksUrl: ctx.sim.jwksUrl });

    const tampered = new TextEncoder().encode(
      new TextDecoder().decode(webhook.raw).replace('"status":"OK"', '"status":"ERROR"'),
    );
    assert.notDeepEqual(tampered, webhook.raw);
    assert.deepEqual(await verifier.verify(webhook.headers, tampered), {
      ok: false,
      reason: "no_key_verifies",
    });

    // Re-serialised JSON (same data, different bytes) is rejected: only raw bytes verify.
    const reserialised = new TextEncoder().encode(JSON.stringify(webhook.body, null, 1));
    assert.equal((await verifier.verify(webhook.headers, reserialised)).ok, false);

    const otherRequest = new Headers(webhook.headers);
    otherRequest.set("x-fal-webhook-request-id", crypto.randomUUID());
    assert.equal((await verifier.verify(otherRequest, webhook.raw)).ok, false);

    // Ten minutes later the same delivery is too old (the window is 5 minutes either way).
    const later = createWebhookVerifier({
      jwksUrl: ctx.sim.jwksUrl,
      clock: () => Date.now() + 10 * 60 * 1000,
    });
    assert.deepEqual(await later.verify(webhook.headers, webhook.raw), {
      ok: false,
      reason: "timestamp_out_of_range",
    });
    const earlier = createWebhookVerifier({
      jwksUrl: ctx.sim.jwksUrl,
      clock: () => Date.now() - 10 * 60 * 1000,
    });
    assert.equal((await earlier.verify(webhook.headers, webhook.raw)).ok, false);

    const missing = new Headers(webhook.headers);
    missing.delete("x-fal-webhook-signature");
    assert.deepEqual(await verifier.verify(missing, webhook.raw), {
      ok: false,
      reason: "missing_headers",
    });
    const badHex = new Headers(webhook.headers);
    badHex.set(
      "x-fal-webhook-signature",
      "zz" + webhook.headers.get("x-fal-webhook-signature")!.slice(2),
    );
    assert.equal((await verifier.verify(badHex, webhook.raw)).ok, false);
    const badTs = new Headers(webhook.headers);
    badTs.set("x-fal-webhook-timestamp", "soon");
    assert.deepEqual(await verifier.verify(badTs, webhook.raw), {
      ok: false,
      reason: "invalid_timestamp",
    });

    await ctx.control.webhookFaults({ wrongKey: true });
    const forged = await deliveredWebhook(ctx);
    assert.deepEqual(await verifier.verify(forged.headers, forged.raw), {
      ok: false,
      reason: "no_key_verifies",
    });
  });
});

Deno.test("the JWKS is fetched once and cached, and fetched again after 24 h", async () => {
  const local = await startLocalFal();
  try {
    let now = Date.now();
    const verifier = createWebhookVerifier({
      jwksUrl: local.jwksUrl,
      clock: () => now,
      cacheTtlMs: 7 * 24 * 60 * 60 * 1000, // asking for a week still caps at 24 h
    });
    const first = await local.sign("r1", now);
    const second = await local.sign("r2", now);
    const both = await Promise.all([
      verifier.verify(first.headers, first.body),
      verifier.verify(second.headers, second.body),
    ]);
    assert.ok(both.every((r) => r.ok));
    assert.equal(local.jwksRequests(), 1);

    now += 23 * 60 * 60 * 1000;
    const sameDay = await local.sign("r3", now);
    assert.equal((await verifier.verify(sameDay.headers, sameDay.body)).ok, true);
    assert.equal(local.jwksRequests(), 1);

    now += 60 * 60 * 1000 + 1;
    const nextDay = await local.sign("r4", now);
    assert.equal((await verifier.verify(nextDay.headers, nextDay.body)).ok, true);
    assert.equal(local.jwksRequests(), 2);
  } finally {
    await local.stop();
  }
});

Deno.test("after a key rotation the verifier refetches once and verifies; repeated failures do not refetch", async () => {
  await withSimulator({}, async (ctx) => {
    let now = Date.now();
    const counter = countingFetch();
    const verifier = createWebhookVerifier({
      jwksUrl: ctx.sim.jwksUrl,
      fetch: counter.fetch,
      clock: () => now,
      refetchIntervalMs: 60_000,
    });
    const before = await deliveredWebhook(ctx);
    assert.equal((await verifier.verify(before.headers, before.raw)).ok, true);
    assert.equal(counter.calls.length, 1);

    now += 61_000; // past the refetch rate limit, well within the 24 h cache
    await ctx.control.rotateKey(); // the old key is gone from the JWKS
    const after = await deliveredWebhook(ctx);
    // Timestamps are checked against the injected clock: verify at the delivery's own time.
    now = Number(after.headers.get("x-fal-webhook-timestamp")) * 1000 + 61_000;
    assert.equal((await verifier.verify(after.headers, after.raw)).ok, true);
    assert.equal(counter.calls.length, 2);

    // A forged signature right after that refetch does not trigger another one.
    await ctx.control.webhookFaults({ wrongKey: true });
    const forged = await deliveredWebhook(ctx);
    assert.equal((await verifier.verify(forged.headers, forged.raw)).ok, false);
    assert.equal((await verifier.verify(forged.headers, forged.raw)).ok, false);
    assert.equal(counter.calls.length, 2);
  });
});

Deno.test("every JWKS key is tried, whatever its kid or kty says", async () => {
  const local = await startLocalFal((signerX, decoyX) => ({
    keys: [
      { kid: "decoy", kty: "OKP", crv: "Ed25519", x: decoyX },
      { x: signerX }, // no kid, no kty: still a key
      { kid: "broken", x: "not-base64url!!" },
    ],
  }));
  try {
    const { headers, body } = await local.sign("r1", Date.now());
    const verifier = createWebhookVerifier({ jwksUrl: local.jwksUrl });
    assert.deepEqual(await verifier.verify(headers, body), {
      ok: true,
      requestId: "r1",
      userId: "u1",
    });
  } finally {
    await local.stop();
  }
});

Deno.test("an unreachable JWKS is reported as jwks_unavailable, not as a bad signature", async () => {
  await withSimulator({}, async (ctx) => {
    const webhook = await deliveredWebhook(ctx);
    const verifier = createWebhookVerifier({ jwksUrl: `${ctx.sim.url}/no-such-jwks.json` });
    assert.deepEqual(await verifier.verify(webhook.headers, webhook.raw), {
      ok: false,
      reason: "jwks_unavailable",
    });
  });
});

/**
 * A stand-in for fal's signing side built from the documented recipe (independent of the
 * simulator's code): an Ed25519 key, a JWKS server that counts its requests, and a signer for
 * any timestamp.
 */
async function startLocalFal(
  jwksOf: (signerX: string, decoyX: string) => unknown = (x) => ({
    keys: [{ kty: "OKP", crv: "Ed25519", x }],
  }),
) {
  const gen = () =>
    crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as Promise<
      CryptoKeyPair
    >;
  const [signer, decoy] = await Promise.all([gen(), gen()]);
  const x = async (k: CryptoKey) => (await crypto.subtle.exportKey("jwk", k)).x!;
  const jwks = jwksOf(await x(signer.publicKey), await x(decoy.publicKey));
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    return Response.json(jwks);
  });
  const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
  return {
    jwksUrl: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    jwksRequests: () => requests,
    async sign(requestId: string, atMs: number) {
      const body = new TextEncoder().encode(
        JSON.stringify({ request_id: requestId, status: "OK", payload: {} }),
      );
      const ts = String(Math.floor(atMs / 1000));
      const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
      const message = new TextEncoder().encode([requestId, "u1", ts, digest].join("\n"));
      const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", signer.privateKey, message));
      const headers = new Headers({
        "x-fal-webhook-request-id": requestId,
        "x-fal-webhook-user-id": "u1",
        "x-fal-webhook-timestamp": ts,
        "x-fal-webhook-signature": hex(sig),
      });
      return { headers, body };
    },
    stop: () => server.shutdown(),
  };
}
