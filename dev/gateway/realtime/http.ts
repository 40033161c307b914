/**
 * Small HTTP helpers shared by the Realtime endpoints: the project's error shape and the request
 * headers Supabase exposes to RLS policies.
 */

/** An error answer in the project's shape, `{"error":{"code","message"}}`. */
export function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/** Request headers Supabase passes to policies as `request.headers`: its `x-` headers. */
export function xHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    if (name.startsWith("x-")) headers[name] = value;
  });
  return headers;
}
