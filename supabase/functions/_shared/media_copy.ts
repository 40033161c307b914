/**
 * Copies a result file from fal's CDN into our Storage, streamed (functions have 256 MB): only
 * from allowed hosts (re-checked on every redirect), https unless insecure media is allowed (dev),
 * with a size cap and a timeout, and only when its first bytes are a format the job's kind may
 * store (media_types.ts), which then decides the object's extension and content type. Storage is
 * reached over its HTTP API with the service key.
 */
import { allowedStoredType, describeAllowed, SNIFF_BYTES, type StoredType } from "./media_types.ts";

/** A media copy that failed: `transient` ones are retried, the others fail the job with `code`. */
export class MediaError extends Error {
  override name = "MediaError";
  constructor(
    message: string,
    readonly transient: boolean,
    readonly code: "media_unavailable" | "media_type_not_allowed" = "media_unavailable",
  ) {
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
  /**
   * Copies `bucket/from` to `bucket/to` inside Storage (no bytes pass through the function);
   * throws a non-transient MediaError when `from` does not exist.
   */
  copy(bucket: string, from: string, to: string): Promise<void>;
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
    async copy(bucket, from, to) {
      const res = await doFetch(`${base}/object/copy`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ bucketId: bucket, sourceKey: from, destinationKey: to }),
      });
      if (!res.ok) {
        const text = await res.text();
        // Storage answers a missing source with 400 or 404 (body `NoSuchKey`/`not_found`).
        const missing = res.status === 404 || /not.?found|NoSuchKey/i.test(text);
        throw new MediaError(
          `storage copy answered ${res.status}: ${text.slice(0, 200)}`,
          !missing && res.status >= 500,
        );
      }
      await res.body?.cancel();
    },
  };
}

/** Reads up to `n` bytes from the start of a stream; the rest stays readable from `reader`. */
async function peek(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; chunks: Uint8Array[] }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < n) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  const head = new Uint8Array(Math.min(size, n));
  let at = 0;
  for (const c of chunks) {
    if (at >= head.length) break;
    const part = c.subarray(0, head.length - at);
    head.set(part, at);
    at += part.byteLength;
  }
  return { head, chunks };
}

/** The chunks already read, then the rest of `reader`. */
function replay(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < chunks.length) return controller.enqueue(chunks[i++]!);
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Where and as what a copied file was stored. */
export interface CopiedMedia {
  path: string;
  contentType: string;
  type: StoredType;
}

/**
 * Streams `source` into `bucket/<pathFor(type)>` with every check applied. The type comes from
 * the file's first bytes and must be one `kind` may store; anything else is refused for good
 * (`media_type_not_allowed`) before anything is written.
 */
export async function copyMedia(
  source: string,
  target: {
    storage: StorageApi;
    bucket: string;
    kind: string;
    pathFor: (type: StoredType) => string;
  },
  opts: MediaCopyOptions,
): Promise<CopiedMedia> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const res = await openMedia(source, opts, signal);
  if (!res.body) throw new MediaError("media response has no body", true);
  const reader = res.body.getReader();
  let peeked: { head: Uint8Array; chunks: Uint8Array[] };
  try {
    peeked = await peek(reader, SNIFF_BYTES);
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw new MediaError(`media download failed: ${(e as Error).message}`, true);
  }
  const type = allowedStoredType(target.kind, peeked.head);
  if (!type) {
    await reader.cancel().catch(() => {});
    const declared = res.headers.get("content-type")?.split(";")[0] ?? "no type";
    throw new MediaError(
      `the provider's ${target.kind} file is not an allowed format (${
        describeAllowed(target.kind)
      }); it was announced as ${declared.slice(0, 60)}`,
      false,
      "media_type_not_allowed",
    );
  }
  const path = target.pathFor(type);
  await target.storage.upload(
    target.bucket,
    path,
    replay(peeked.chunks, reader).pipeThrough(capStream(opts.maxBytes)),
    type.contentType,
  );
  return { path, contentType: type.contentType, type };
}
