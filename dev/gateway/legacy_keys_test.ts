/** The legacy-key gate: which keys it refuses, where it looks for them, and its setting. */
import assert from "node:assert/strict";
import { createLegacyKeyGate, parseLegacyKeysMode } from "./legacy_keys.ts";

const ANON = "eyJ.anon.sig";
const SERVICE = "eyJ.service.sig";
const gate = createLegacyKeyGate({
  mode: "disabled",
  legacyKeys: [ANON, SERVICE],
  disabledAt: new Date("2026-12-01T00:00:00Z"),
});
const check = (path: string, headers: Record<string, string>, service = "auth" as const) => {
  const url = new URL(`http://127.0.0.1${path}`);
  return gate(new Request(url, { headers }), url, service);
};

Deno.test("LEGACY_KEYS accepts enabled, disabled or nothing", () => {
  assert.equal(parseLegacyKeysMode(undefined), "enabled");
  assert.equal(parseLegacyKeysMode(""), "enabled");
  assert.equal(parseLegacyKeysMode("disabled"), "disabled");
  assert.throws(() => parseLegacyKeysMode("off"), /LEGACY_KEYS/);
});

Deno.test("a legacy key in the apikey header, query or a bare bearer is refused with 401", async () => {
  for (
    const res of [
      check("/auth/v1/settings", { apikey: ANON }),
      check(`/auth/v1/settings?apikey=${SERVICE}`, {}),
      check("/storage/v1/bucket", { authorization: `Bearer ${SERVICE}` }),
    ]
  ) {
    assert.equal(res?.status, 401);
    const body = await res!.json();
    assert.equal(body.message, "Legacy API keys are disabled");
    assert.match(body.hint, /disabled on 2026-12-01T00:00:00.000Z\. Re-enable them/);
  }
});

Deno.test("new keys, user tokens beside a new key, and enabled legacy keys pass", () => {
  assert.equal(check("/auth/v1/settings", { apikey: "sb_publishable_x" }), null);
  assert.equal(
    check("/storage/v1/bucket", { apikey: "sb_secret_x", authorization: `Bearer ${SERVICE}` }),
    null,
    "the platform does not revoke the old JWT as a bearer token",
  );
  const url = new URL("http://127.0.0.1/functions/v1/f");
  const fnReq = new Request(url, { headers: { authorization: `Bearer ${ANON}` } });
  assert.equal(gate(fnReq, url, "functions"), null, "functions only look at the apikey");
  const open = createLegacyKeyGate({ mode: "enabled", legacyKeys: [ANON], disabledAt: new Date() });
  const req = new Request(url, { headers: { apikey: ANON } });
  assert.equal(open(req, url, "functions"), null);
});
