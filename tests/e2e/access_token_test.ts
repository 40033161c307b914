/**
 * Access tokens through the running stack: the functions accept a user token only when it is
 * signed by the project's keys, unexpired, issued by the project's Auth (`iss` =
 * `<SUPABASE_URL>/auth/v1`) and meant for signed-in users (`aud` = `authenticated`). A token
 * signed with a trusted key but carrying another issuer or audience is refused with 401, for the
 * ES256 signing keys and the legacy HS256 secret alike. The tokens the stack's Auth issues pass.
 */
import assert from "node:assert/strict";
import { loadKeys } from "../../dev/gateway/keys.ts";
import { startTestStack } from "../harness/stack.ts";
import { anonymousUser, call } from "./helpers.ts";

function claimsOf(token: string): Record<string, unknown> {
  const b64 = token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
}

Deno.test("a user token for another issuer or audience is refused, whatever key signed it", async (t) => {
  const localDir = await Deno.makeTempDir({ prefix: "vq-tokens-" });
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  try {
    // The stack keeps the keys it finds in its folder: these are the ones it will sign with.
    const keys = await loadKeys(localDir);
    await using s = await startTestStack({
      localDir,
      env: { LEGACY_JWT_SECRET: keys.jwtSecret },
    });
    const user = await anonymousUser(s);
    const issued = claimsOf(user.token);
    const list = (token: string) =>
      call(s, "video-jobs", { method: "GET", token }).then((r) => r.status);

    await t.step("the stack's Auth issues what hosted Supabase Auth does", async () => {
      assert.equal(issued.iss, `${s.info.supabaseUrl}/auth/v1`);
      assert.equal(issued.aud, "authenticated");
      assert.equal(await list(user.token), 200);
      assert.equal(await list(await keys.signAccessToken(issued)), 200, "re-signed: same claims");
      assert.equal(await list(await keys.signWithSecret(issued)), 200, "legacy HS256 as well");
    });

    await t.step("another issuer or audience is a 401", async () => {
      const forged = [
        { ...issued, iss: "https://someone-else.supabase.co/auth/v1" },
        { ...issued, iss: s.info.supabaseUrl },
        { ...issued, iss: undefined },
        { ...issued, aud: "anon" },
        { ...issued, aud: ["some-other-app"] },
        { ...issued, aud: undefined },
      ];
      for (const claims of forged) {
        for (
          const token of [await keys.signAccessToken(claims), await keys.signWithSecret(claims)]
        ) {
          const res = await call(s, "video-jobs", { method: "GET", token });
          assert.equal(res.status, 401, JSON.stringify(claims));
          assert.equal((res.json.error as { code: string }).code, "unauthorized");
        }
      }
      const created = await call(s, "generate-video", {
        token: await keys.signAccessToken({ ...issued, aud: "anon" }),
        body: { prompt: "x" },
      });
      assert.equal(created.status, 401, "nothing is created with such a token");
    });
  } finally {
    await Deno.remove(localDir, { recursive: true }).catch(() => {});
  }
});
