import assert from "node:assert/strict";
import { hostAllowed, hostNameOf } from "./loopback_host.ts";

/** Only the `Host` header is read (fetch would always send the URL's own host). */
const withHost = (host: string | null) =>
  ({ headers: new Headers(host === null ? {} : { host }) }) as Request;

Deno.test("loopback host names pass with any port; everything else, and no Host, does not", () => {
  for (const ok of ["127.0.0.1", "127.0.0.1:54321", "LOCALHOST:1", "[::1]", "[::1]:8080"]) {
    assert.equal(hostAllowed(withHost(ok)), true, ok);
  }
  for (
    const bad of [
      null,
      "",
      "evil.example",
      "127.0.0.1.evil.example",
      "localhost.evil.example:54321",
      "127.0.0.2",
      "user@127.0.0.1",
      "127.0.0.1/x",
    ]
  ) {
    assert.equal(hostAllowed(withHost(bad)), false, String(bad));
  }
});

Deno.test("a tunnel's host name is allowed only when it is configured", () => {
  assert.equal(hostAllowed(withHost("abc.tunnel.example")), false);
  assert.equal(hostAllowed(withHost("abc.tunnel.example:443"), ["abc.tunnel.example"]), true);
  assert.equal(hostNameOf("Abc.Tunnel.Example:443"), "abc.tunnel.example");
});
