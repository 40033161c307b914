/**
 * Answers for the platform paths this stack does not serve, so a client gets an error in the
 * shape it parses instead of the web app's HTML. `/rest/v1` and `/graphql/v1` (PostgREST on
 * Supabase) answer PostgREST's `{code, details, hint, message}`; any other unknown path under an
 * API prefix answers what Supabase's gateway (Kong) says when no route matches.
 */
import { json } from "./http.ts";

/** API prefixes Supabase's gateway owns: their unknown paths never reach the web app. */
const API_PATH = /^\/(auth|rest|graphql|storage|functions|realtime)\/v1(?:\/|$)/;

/** True when `path` belongs to a platform API (so it must never fall back to the SPA page). */
export function isApiPath(path: string): boolean {
  return API_PATH.test(path);
}

/** True for the Data API paths (PostgREST and the GraphQL endpoint it serves). */
export function isDataApiPath(path: string): boolean {
  return /^\/(rest|graphql)\/v1(?:\/|$)/.test(path);
}

/**
 * PostgREST's error for a URL it has no route for (PGRST125, 404), with a message and hint that
 * say why: PostgREST is not part of this stack. 404 rather than PostgREST's 503 connection codes
 * because postgrest-js retries 503 three times with back-off; this answer will not change.
 */
export function dataApiNotServed(req: Request, url: URL): Response {
  return json(
    {
      code: "PGRST125",
      details: `${req.method} ${url.pathname} was not handled: the local stack has no PostgREST`,
      hint:
        "Call an Edge Function (supabase.functions.invoke) or, to use supabase.from() locally, " +
        "run PostgREST against the stack's database (see docs/data-api-local.md).",
      message: "The Data API (PostgREST, /rest/v1 and /graphql/v1) is not part of the local stack",
    },
    404,
  );
}

/** Kong's answer when no route matches. */
export function noRoute(): Response {
  return json({ message: "no Route matched with those values" }, 404);
}
