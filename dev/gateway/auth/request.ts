/**
 * Reading GoTrue's request bodies: a JSON object or GoTrue's `bad_json` error, typed field
 * access, and GoTrue's email validation (`validateEmail` in internal/api/mail.go).
 */
import { AuthError } from "./errors.ts";

const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

/** The request's JSON object body (`{}` when empty); GoTrue's 400 `bad_json` otherwise. */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    const body = JSON.parse(text);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body;
    throw new Error("expected a JSON object");
  } catch (e) {
    throw new AuthError(
      400,
      "bad_json",
      `Could not parse request body as JSON: ${e instanceof Error ? e.message : e}`,
    );
  }
}

/** `body[key]` when it is a string. */
export function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === "string" ? v : undefined;
}

/** `body[key]` when it is a JSON object. */
export function objectField(
  body: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const v = body[key];
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/** The address lower-cased, or GoTrue's 400 `validation_failed` for a malformed one. */
export function validateEmail(email: string | undefined): string {
  if (!email) throw new AuthError(400, "validation_failed", "An email address is required");
  if (email.length > 255) {
    throw new AuthError(400, "validation_failed", "An email address is too long");
  }
  if (!EMAIL.test(email)) {
    throw new AuthError(
      400,
      "validation_failed",
      "Unable to validate email address: invalid format",
    );
  }
  return email.toLowerCase();
}

/** GoTrue's minimum-length password check (422 `weak_password`). */
export function checkPasswordLength(password: string, minimum: number): void {
  if (password.length < minimum) {
    throw new AuthError(
      422,
      "weak_password",
      `Password should be at least ${minimum} characters.`,
      { weak_password: { reasons: ["length"] } },
    );
  }
}
