/**
 * DNS-rebinding guard for the local stack's servers (the gateway and the fal simulator). They
 * listen on 127.0.0.1 only, but a page on any site the developer visits can point its own host
 * name at 127.0.0.1 and then talk to them as "same origin". The browser still sends that site's
 * name in `Host`, so answering only loopback host names (with any port) closes the hole.
 */

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The host name of a `Host` header value (`name[:port]`, IPv6 in brackets), lower-cased, or null
 * when it is missing or not a host.
 */
export function hostNameOf(host: string | null): string | null {
  if (!host || /[\s/\\@?#]/.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** Whether a request's `Host` names a loopback host, or one of `extra` (host names, no port). */
export function hostAllowed(req: Request, extra: readonly string[] = []): boolean {
  const name = hostNameOf(req.headers.get("host"));
  if (name === null) return false;
  return LOOPBACK.has(name) || extra.some((h) => h.toLowerCase() === name);
}

/** The answer to a request for another host: 421 Misdirected Request, as JSON. */
export function misdirected(req: Request): Response {
  const host = (req.headers.get("host") ?? "").slice(0, 100);
  return new Response(
    JSON.stringify({
      error: {
        code: "host_not_allowed",
        message: `This local server answers only loopback host names, not ${JSON.stringify(host)}.`,
      },
    }),
    { status: 421, headers: { "content-type": "application/json" } },
  );
}
