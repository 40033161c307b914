/**
 * A running dev stack cannot be reached by a web page through DNS rebinding: the gateway answers
 * only loopback host names (421 JSON otherwise, on every route, WebSocket upgrades included),
 * and the embedded fal simulator's control API wants the per-stack token from stack.json.
 */
import assert from "node:assert/strict";
import { createFalSimControl } from "../../dev/fal_sim/control.ts";
import { rawHttp } from "../harness/raw_http.ts";
import { startTestStack } from "../harness/stack.ts";

Deno.test("the stack answers only loopback host names and guards the simulator's control API", async (t) => {
  const localDir = await Deno.makeTempDir({ prefix: "vq-guard-" });
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  try {
    await using stack = await startTestStack({ localDir });
    const port = stack.info.ports.gateway;

    await t.step("another Host gets 421 on every route; loopback names are served", async () => {
      for (const host of ["evil.example", `evil.example:${port}`, "localhost.evil.example"]) {
        for (
          const path of [
            "/health",
            "/auth/v1/settings",
            "/storage/v1/bucket",
            "/functions/v1/video-jobs?models",
            "/realtime/v1/websocket",
            "/",
          ]
        ) {
          const res = await rawHttp(port, {
            path,
            host,
            headers: { apikey: stack.info.anonKey },
          });
          assert.equal(res.status, 421, `${host} ${path}`);
          assert.equal(JSON.parse(res.body).error.code, "host_not_allowed");
        }
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "localhost"]) {
        const res = await rawHttp(port, { path: "/health", host });
        assert.equal(res.status, 200, host);
      }
    });

    await t.step(
      "stack.json carries the simulator's control token, which its API wants",
      async () => {
        const info = JSON.parse(await Deno.readTextFile(`${localDir}/stack.json`));
        const fal = stack.stack.fal!;
        assert.equal(info.falControlToken, fal.controlToken);
        const anonymous = await fetch(`${fal.controlUrl}/reset`, { method: "POST" });
        assert.equal(anonymous.status, 403);
        await anonymous.body?.cancel();
        const control = createFalSimControl({
          controlUrl: fal.controlUrl,
          controlToken: info.falControlToken,
        });
        assert.equal((await control.settings()).concurrency > 0, true);
        const simPort = Number(new URL(fal.url).port);
        const rebound = await rawHttp(simPort, {
          path: "/_sim/settings",
          host: "evil.example",
          headers: { authorization: `Bearer ${info.falControlToken}` },
        });
        assert.equal(rebound.status, 421);
      },
    );
  } finally {
    await Deno.remove(localDir, { recursive: true }).catch(() => {});
  }
});
