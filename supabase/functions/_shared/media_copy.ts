/**
 * Copies a result file from fal's CDN into our Storage, streamed (functions have 256 MB): only
 * from allowed hosts (re-checked on every redirect), https unless insecure media is allowed (dev),
 * with a size cap and a timeout. Storage is reached over its HTTP API with the service key.
 */

export class MediaError extends Error {
  override name = "MediaError";
  constructor(message: string, readonly transient: boolean) {
    super(message);
  }
}

export interface MediaCopyOptions {
  /** `host[:port]` entries; a leading `.` or `*.` allows subdomains. */
  allowedHosts: string[];
  allowInsecure: boolean;
  maxBytes: number;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Parses FAL_MEDIA_HOSTS (comma-separated). */
export function parseHosts(list: string): string[] {
  return list.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
}

/** Whether `url`'s host is on the allowlist. */
export function hostAllowed(url: URL, allowed: string[]): boolean {
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  return allowed.some((entry) => {
    if (entry.startsWith("*.") || entry.startsWith(".")) {
      const suffix = entry.slice(entry.indexOf("."));
      return hostname.endsWith(suffix) || host.endsWith(suffix);
    }
    return entry === host || entry === hostname;
  });
}

/** Opens the media URL, following at most 5 redirects, each re-checked; returns the response. */
export async function openMedia(
  source: string,
  opts: MediaCopyOptions,
  signal: AbortSignal,
): Promise<Response> {
  const doFetch = opts.fetch ?? fetch;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new MediaError(`result URL is not a URL: ${source.slice(0, 100)}`, false);
  }
  for (let hop = 0; hop <= 5; hop++) {
    if (url.protocol !== "https:" && !(opts.allowInsecure && url.protocol === "http:")) {
      throw new MediaError(`refusing non-https media URL ${url.origin}`, false);
    }
    if (!hostAllowed(url, opts.allowedHosts)) {
      throw new MediaError(`media host ${url.host} is not allowed`, false);
    }
    let res: Response;
    try {
      res = await doFetch(url, { redirect: "manual", signal });
    } catch (e) {
      throw new MediaError(`media download failed: ${(e as Error).message}`, true);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      url = new URL(res.headers.get("location")!, url);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new MediaError(
        `media download answered ${res.status}`,
        res.status >= 500 || res.status === 429,
      );
    }
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > opts.maxBytes) {
      await res.body?.cancel();
      throw new MediaError(`media is larger than ${opts.maxBytes} bytes`, false);
    }
    return res;
  }
  throw new MediaError("too many redirects", false);
}

/** A stream that errors once more than `maxBytes` have passed through. */
export function capStream(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) {
        controller.error(new MediaError(`media is larger than ${maxBytes} bytes`, false));
      } else controller.enqueue(chunk);
    },
  });
}

export interface StorageApi {
  /** Uploads a stream to `bucket/path`, replacing what is there. */
  upload(
    bucket: string,
    path: string,
    body: ReadableStream<Uint8Array>,
    contentType: string,
  ): Promise<void>;
  /** Signed download URLs for paths (null where the object is missing). */
  sign(bucket: string, paths: string[], expiresIn: number): Promise<(string | null)[]>;
  remove(bucket: string, paths: string[]): Promise<void>;
}

/** Storage over its HTTP API (works against hosted Supabase and the local gateway). */
export function createStorageApi(
  opts: { url: string; serviceKey: string; fetch?: typeof fetch },
): StorageApi {
  const doFetch = opts.fetch ?? fetch;
  const base = `${opts.url.replace(/\/$/, "")}/storage/v1`;
  const headers = { authorization: `Bearer ${opts.serviceKey}`, apikey: opts.serviceKey };
  const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");
  return {
    async upload(bucket, path, body, contentType) {
      const res = await doFetch(`${base}/object/${bucket}/${encodePath(path)}`, {
        method: "POST",
        headers: { ...headers, "content-type": contentType, "x-upsert": "true" },
        body,
        // Streaming request bodies need half-duplex in fetch.
        ...({ duplex: "half" } as Record<string, string>),
      });
      if (!res.ok) {
        const text = await res.text();
        throw new MediaError(
          `storage upload answered ${res.status}: ${text.slice(0, 200)}`,
          res.status >= 500,
        );
      }
      await res.body?.cancel();
    },
    async sign(bucket, paths, expiresIn) {
      if (paths.length === 0) return [];
      const res = await doFetch(`${base}/object/sign/${bucket}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ expiresIn, paths }),
      });
      if (!res.ok) throw new Error(`storage sign answered ${res.status}`);
      const items = await res.json() as {
        path: string | null;
        signedURL: string | null;
        error: string | null;
      }[];
      const root = opts.url.replace(/\/$/, "");
      return paths.map((p) => {
        const item = items.find((i) => i.path === p);
        if (!item?.signedURL) return null;
        return item.signedURL.startsWith("http")
          ? item.signedURL
          : `${root}/storage/v1${item.signedURL}`;
      });
    },
    async remove(bucket, paths) {
      if (paths.length === 0) return;
      const res = await doFetch(`${base}/object/${bucket}`, {
        method: "DELETE",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ prefixes: paths }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`storage remove answered ${res.status}`);
    },
  };
}

/** Streams `source` into `bucket/path` with every check applied; returns the content type. */
export async function copyMedia(
  source: string,
  target: { storage: StorageApi; bucket: string; path: string },
  opts: MediaCopyOptions,
): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const res = await openMedia(source, opts, signal);
  const contentType = res.headers.get("content-type")?.split(";")[0] ?? "application/octet-stream";
  if (!res.body) throw new MediaError("media response has no body", true);
  await target.storage.upload(
    target.bucket,
    target.path,
    res.body.pipeThrough(capStream(opts.maxBytes)),
    contentType,
  );
  return contentType;
}
