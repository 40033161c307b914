/**
 * Small HTTP helpers shared by the gateway's services: JSON answers, reading the caller's key or
 * token, and the CORS behaviour of Supabase's API gateway (Kong's `cors` plugin with its
 * defaults) for the Auth, Storage and Realtime REST routes. Edge Functions answer their own CORS,
 * as on Supabase.
 */

/** A JSON response with the given status and extra headers. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  if (!header) return null;
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** The API key from the `apikey` header or query parameter, or null. */
export function apiKey(req: Request, url: URL): string | null {
  return req.headers.get("apikey") ?? url.searchParams.get("apikey");
}

const ALLOWED_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT";
const EXPOSED_HEADERS = "Content-Length,Content-Range,Content-Type,ETag,X-Supabase-Api-Version";

/** The answer to a CORS preflight, as Kong's cors plugin gives it with default settings. */
export function preflight(req: Request): Response {
  const headers = new Headers({
    "access-control-allow-origin": "*",
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-max-age": "3600",
  });
  const requested = req.headers.get("access-control-request-headers");
  if (requested) headers.set("access-control-allow-headers", requested);
  return new Response(null, { status: 200, headers });
}

/** True for a CORS preflight request. */
export function isPreflight(req: Request): boolean {
  return req.method === "OPTIONS" && req.headers.has("access-control-request-method");
}

/** Adds the CORS headers Kong adds to every proxied answer. */
export function withCors(res: Response): Response {
  // Upgraded WebSocket responses and some fetch() responses have immutable headers.
  try {
    res.headers.set("access-control-allow-origin", "*");
    res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set("access-control-allow-origin", "*");
    copy.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    return copy;
  }
}
