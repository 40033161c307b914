/**
 * Hash routes (`#/generate`, `#/library`, `#/account`): they work on any static host without
 * rewrite rules, and reloading keeps the page.
 */

export type Route = "generate" | "library" | "account";

const ROUTES: readonly Route[] = ["generate", "library", "account"];

/** The route named by a location hash; unknown hashes go to Generate. */
export function routeFromHash(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0] ?? "";
  return (ROUTES as readonly string[]).includes(name) ? name as Route : "generate";
}
