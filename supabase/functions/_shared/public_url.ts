/**
 * PUBLIC_URL is the project's URL as the outside world reaches it, when that is not
 * SUPABASE_URL: a tunnel to a laptop's stack (fal cannot call 127.0.0.1), or the host's
 * `http://127.0.0.1:54321` under `supabase functions serve`, where SUPABASE_URL is the Docker
 * network's `http://kong:8000` that no browser can resolve. Signed URLs handed to clients are
 * moved onto it; URLs the functions fetch themselves stay on SUPABASE_URL. Unset on hosted.
 */
import type { Env } from "./env.ts";
import type { StorageApi } from "./media_copy.ts";

/** `url` moved from SUPABASE_URL's origin onto PUBLIC_URL's (unchanged when either differs). */
export function toPublicUrl(url: string, env: Pick<Env, "SUPABASE_URL" | "PUBLIC_URL">): string {
  if (!env.PUBLIC_URL) return url;
  const own = new URL(env.SUPABASE_URL).origin;
  if (url !== own && !url.startsWith(`${own}/`)) return url;
  return new URL(env.PUBLIC_URL).origin + url.slice(own.length);
}

/** `storage` whose signed URLs are for clients: on PUBLIC_URL when it is set. */
export function withPublicSignedUrls(
  storage: StorageApi,
  env: Pick<Env, "SUPABASE_URL" | "PUBLIC_URL">,
): StorageApi {
  if (!env.PUBLIC_URL) return storage;
  return {
    ...storage,
    sign: async (bucket, paths, expiresIn) =>
      (await storage.sign(bucket, paths, expiresIn)).map((u) => u && toPublicUrl(u, env)),
  };
}
