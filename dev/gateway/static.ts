/**
 * The web app at `/`: files from `web/dist` when it has been built (unknown paths fall back to
 * `index.html`, as a single-page app expects, except under the platform's API prefixes), and
 * `GET /config.json` with this stack's URL and anon key so the built app finds its backend at run
 * time.
 */
import { json } from "./http.ts";
import { isApiPath } from "./not_served.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  woff: "font/woff",
  woff2: "font/woff2",
  mp4: "video/mp4",
  webm: "video/webm",
  wasm: "application/wasm",
};

export interface StaticDeps {
  webDir: string;
  config: { supabaseUrl: string; anonKey: string };
}

async function fileResponse(path: string, req: Request): Promise<Response | null> {
  try {
    const stat = await Deno.stat(path);
    if (!stat.isFile) return null;
    const ext = path.split(".").pop()?.toLowerCase() ?? "";
    const headers = new Headers({
      "content-type": TYPES[ext] ?? "application/octet-stream",
      "content-length": String(stat.size),
      // Hashed build assets never change; index.html must be re-read to pick up new builds.
      "cache-control": path.includes("/assets/")
        ? "public, max-age=31536000, immutable"
        : "no-cache",
    });
    if (req.method === "HEAD") return new Response(null, { headers });
    const file = await Deno.open(path, { read: true });
    return new Response(file.readable, { headers });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Creates the handler for `/` and `/config.json`; answers null for paths it does not serve. */
export function createStatic(deps: StaticDeps) {
  return async function handleStatic(req: Request, url: URL): Promise<Response | null> {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    // `/rest/v1/…` and friends are API calls: an HTML page there would be parsed as an error body.
    if (isApiPath(url.pathname)) return null;
    if (url.pathname === "/config.json") return json(deps.config);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return null;
    }
    if (path.split("/").some((seg) => seg === "..")) return null;
    const direct = path.endsWith("/") ? `${path}index.html` : path;
    const found = await fileResponse(`${deps.webDir}${direct}`, req);
    if (found) return found;
    // SPA fallback: routes without a file extension get the app shell.
    if (!/\.[a-z0-9]+$/i.test(path)) return await fileResponse(`${deps.webDir}/index.html`, req);
    return null;
  };
}
