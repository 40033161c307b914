/** Job priority is the server's decision (plan / app_metadata), never the caller's. */
import type { JwtClaims } from "./jwt.ts";

/** Priority from the user's app_metadata: an explicit integer (clamped) or 10 for the pro plan. */
export function priorityOf(claims: JwtClaims): number {
  const meta = (claims.app_metadata ?? {}) as Record<string, unknown>;
  if (typeof meta.priority === "number" && Number.isInteger(meta.priority)) {
    return Math.max(-100, Math.min(100, meta.priority));
  }
  return meta.plan === "pro" ? 10 : 0;
}
