/**
 * Who is an admin: a user whose JWT carries `app_metadata.role = "admin"` (app_metadata is
 * written only by the service, never by the user). Checked here in the functions and again in
 * SQL (vidqueue.require_admin, 20250604000000_admin_access.sql) against the same claims.
 */
import type { AuthUser } from "./auth.ts";
import { AppError } from "./errors.ts";
import type { JwtClaims } from "./jwt.ts";

/** True when the verified claims are an admin's. */
export function isAdminClaims(claims: JwtClaims): boolean {
  const meta = claims.app_metadata;
  return typeof meta === "object" && meta !== null &&
    (meta as Record<string, unknown>).role === "admin";
}

/** Throws 403 `forbidden` unless the user is an admin. */
export function requireAdmin(user: AuthUser): void {
  if (!isAdminClaims(user.claims)) {
    throw new AppError("forbidden", "This needs an admin account.");
  }
}

/** A request id for log lines: the platform's when it sent one, else a new one. */
export function requestIdOf(req: Request): string {
  return req.headers.get("sb-request-id") ?? req.headers.get("x-request-id") ??
    crypto.randomUUID();
}
