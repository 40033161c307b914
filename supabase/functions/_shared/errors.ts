/**
 * Errors as data: every error a client sees is `{"error":{"code","message"}}` with a stable code
 * and the matching HTTP status. Inside, code throws `AppError`; anything else becomes a logged
 * 500 `internal` whose body never carries SQL, stack traces or secrets.
 */

/** Stable error codes of the public API and the HTTP status each one answers with. */
export const ERROR_STATUS = {
  invalid_input: 400,
  unauthorized: 401,
  invalid_signature: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  provider_error: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error meant for the client: its code, message and extra headers are safe to show. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.headers = headers;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Builds the JSON error response for a code and message. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status: ERROR_STATUS[code],
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Turns anything thrown into a client response; unexpected errors are logged, not shown. */
export function toErrorResponse(
  e: unknown,
  log: (msg: string, fields: Record<string, unknown>) => void,
): Response {
  if (e instanceof AppError) return errorResponse(e.code, e.message, e.headers);
  log("unexpected error", { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  return errorResponse("internal", "Something went wrong on our side; please try again.");
}
