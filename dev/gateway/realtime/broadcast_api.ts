/**
 * Realtime's REST broadcast: `POST /realtime/v1/api/broadcast` with
 * `{messages:[{topic, event, payload, private}]}` (what realtime-js falls back to when
 * `channel.send()` runs before the join), and `POST /realtime/v1/api/broadcast/<topic>/events/<event>`
 * (`channel.httpSend()`, JSON or raw bytes, `?private=true`). The caller is the `Authorization`
 * bearer token, else the `apikey`; a private message is sent only if that user may write the
 * topic (the same RLS insert check as a socket); refused ones are skipped silently. Answers 202.
 */
import { z } from "zod";
import { AuthorizationUnavailableError, type Authorizer } from "./authorizer.ts";
import type { BroadcastMessage } from "./frames.ts";
import type { Hub } from "./hub.ts";
import { errorResponse, xHeaders } from "./http.ts";
import { checkToken, type VerifyToken } from "./tokens.ts";

const BatchBody = z.object({
  messages: z.array(z.object({
    topic: z.string().min(1),
    event: z.string().min(1),
    payload: z.unknown().refine((v) => v !== undefined && v !== null, "payload is required"),
    private: z.boolean().optional(),
  })).min(1),
});

type Outgoing = { topic: string; isPrivate: boolean; message: BroadcastMessage };

function callerToken(req: Request): string | null {
  const authorization = req.headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  return bearer ?? req.headers.get("apikey");
}

async function readMessages(req: Request, url: URL): Promise<Outgoing[] | Response> {
  const single = url.pathname.match(/\/api\/broadcast\/([^/]+)\/events\/([^/]+)\/?$/);
  if (single) {
    const topic = decodeURIComponent(single[1]!);
    const event = decodeURIComponent(single[2]!);
    const isPrivate = url.searchParams.get("private") === "true";
    const type = req.headers.get("content-type") ?? "";
    if (type.startsWith("application/octet-stream")) {
      const binary = new Uint8Array(await req.arrayBuffer());
      return [{ topic, isPrivate, message: { event, binary } }];
    }
    const text = await req.text();
    try {
      JSON.parse(text);
    } catch {
      return errorResponse(
        400,
        "invalid_input",
        "the body must be JSON or application/octet-stream",
      );
    }
    return [{ topic, isPrivate, message: { event, json: text } }];
  }
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return errorResponse(400, "invalid_input", "the body must be JSON");
  }
  const parsed = BatchBody.safeParse(body);
  if (!parsed.success) {
    return errorResponse(400, "invalid_input", z.prettifyError(parsed.error));
  }
  return parsed.data.messages.map((m) => ({
    topic: m.topic,
    isPrivate: m.private === true,
    message: { event: m.event, json: JSON.stringify(m.payload) },
  }));
}

/** Creates the REST broadcast handler. */
export function createBroadcastApi(deps: {
  hub: Hub;
  authorizer: Authorizer;
  verifyToken: VerifyToken;
  log: (line: string) => void;
  now: () => number;
}): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== "POST") return errorResponse(405, "method_not_allowed", "use POST");
    const token = callerToken(req);
    if (!token) {
      return errorResponse(401, "unauthorized", "an apikey or a bearer token is required");
    }
    const checked = await checkToken(token, deps.verifyToken, deps.now() / 1000);
    if (!checked.ok) return errorResponse(401, "unauthorized", checked.message);
    const messages = await readMessages(req, new URL(req.url));
    if (messages instanceof Response) return messages;

    const mayWrite = new Map<string, Promise<boolean>>();
    const headers = xHeaders(req);
    for (const m of messages) {
      if (m.isPrivate) {
        let allowed = mayWrite.get(m.topic);
        if (!allowed) {
          allowed = deps.authorizer.canWrite({
            topic: m.topic,
            role: checked.role,
            claims: checked.claims,
            headers,
          });
          mayWrite.set(m.topic, allowed);
        }
        try {
          if (!await allowed) continue;
        } catch (e) {
          if (!(e instanceof AuthorizationUnavailableError)) throw e;
          deps.log(`realtime: ${e.message}`);
          return errorResponse(503, "unavailable", "Unable to authorize broadcast");
        }
      }
      deps.hub.deliver(m.topic, m.isPrivate, m.message);
    }
    return new Response(null, { status: 202 });
  };
}
