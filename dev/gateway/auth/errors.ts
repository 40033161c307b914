/**
 * Auth (GoTrue) error answers. Clients that send `X-Supabase-Api-Version: 2024-01-01` (auth-js 2.x
 * always does) get `{code, message}` with `code` the error code and the version echoed back;
 * older clients get the legacy `{code: <status>, error_code, msg}`.
 */
import { json } from "../http.ts";

export const API_VERSION_HEADER = "x-supabase-api-version";
const API_VERSION_2024 = "2024-01-01";

/** An error the auth handler turns into GoTrue's error answer. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** True when the request asks for the 2024-01-01 API version (or later). */
export function wantsApi2024(req: Request): boolean {
  const v = req.headers.get(API_VERSION_HEADER);
  return !!v && /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= API_VERSION_2024;
}

/** GoTrue's error answer for `err` in the shape the request's API version expects. */
export function authErrorResponse(req: Request, err: AuthError): Response {
  if (wantsApi2024(req)) {
    return json({ code: err.code, message: err.message, ...err.extra }, err.status, {
      [API_VERSION_HEADER]: API_VERSION_2024,
    });
  }
  return json(
    { code: err.status, error_code: err.code, msg: err.message, ...err.extra },
    err.status,
  );
}

/** Adds the API version header to a successful answer when the request asked for it. */
export function withApiVersion(req: Request, res: Response): Response {
  if (wantsApi2024(req)) res.headers.set(API_VERSION_HEADER, API_VERSION_2024);
  return res;
}
