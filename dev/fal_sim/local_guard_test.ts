/**
 * The simulator cannot be driven by a web page the developer happens to visit: its control API
 * wants the stack's control token (a cross-site request cannot send `Authorization` without a
 * CORS preflight, which is never granted), and it answers only loopback host names, so a site
 * that rebinds its own name to 127.0.0.1 gets 421 for every route.
 */
import assert from "node:assert/strict";
import { rawHttp } from "../../tests/harness/raw_http.ts";
import { createFalSimControl } from "./control.ts";
import { withSimulator } from "./testing.ts";

Deno.test("the control API refuses callers without the stack's control token", async () => {
  await withSimulator({}, async ({ sim, control }) => {
    const before = await control.settings();
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer not-the-token" }];
    for (const headers of tries) {
      const res = await fetch(`${sim.controlUrl}/settings`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ concurrency: 9 }),
      });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error.code, "forbidden");
    }
    // A form POST, the cross-site request a page can send without a preflight.
    const form = await fetch(`${sim.controlUrl}/reset`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    assert.equal(form.status, 403);
    await form.body?.cancel();
    const preflight = await fetch(`${sim.controlUrl}/settings`, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "PATCH",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    await preflight.body?.cancel();
    const wrong = createFalSimControl({ controlUrl: sim.controlUrl, controlToken: "x" });
    await assert.rejects(wrong.settings(), /403/);
    assert.deepEqual(await control.settings(), before, "nothing changed");
    assert.equal(sim.controlToken.length >= 32, true, "a random token per start");
  });
});

Deno.test("the simulator answers only loopback host names (DNS rebinding gets 421)", async () => {
  await withSimulator({}, async ({ sim }) => {
    const port = Number(new URL(sim.url).port);
    const auth = { authorization: `Bearer ${sim.controlToken}` };
    for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1.evil.example"]) {
      for (const path of ["/_sim/settings", "/.well-known/jwks.json", "/fal-ai/x/video"]) {
        const res = await rawHttp(port, { path, host, headers: auth });
        assert.equal(res.status, 421, `${host} ${path}`);
        assert.equal(JSON.parse(res.body).error.code, "host_not_allowed");
      }
    }
    for (const host of ["127.0.0.1", `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const res = await rawHttp(port, { path: "/_sim/health", host, headers: auth });
      assert.equal(res.status, 200, host);
    }
  });
});
