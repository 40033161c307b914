/**
 * Hash routes (`#/generate`, `#/create`, `#/library`, `#/account`, and `#/admin` for admins): they work on
 * any static host without rewrite rules, and reloading keeps the page.
 */

export type Route = "generate" | "create" | "library" | "account" | "admin";

const ROUTES: readonly Route[] = ["generate", "create", "library", "account", "admin"];

/** The route named by a location hash; unknown hashes go to Generate. */
export function routeFromHash(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(name) ? name as Route : "generate";
}
