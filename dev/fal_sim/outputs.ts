/**
 * The result payloads of simulated models, shaped like fal's: `{video:{url,…}}` for video models
 * (length from the `duration` input, default 5 s), `{images:[{url,width,height,…}], seed, …}` for
 * image models, `{audio:{url,…}}` for speech (about 2.5 words a second), and `{video_url,
 * thumbnail_url}` for compose, which really renders its tracks. Media URLs point at the
 * simulator's `/media/…`; with the `missingMedia` knob they point at paths that answer 404, with
 * `servedMedia` at `/media/forged/…`, which serves what the knob says (see `forgedMediaUrl`).
 */
import { ComposeInputError, type LocalTrack, renderCompose } from "./compose.ts";
import type { EndpointKind, ResolvedEndpoint, ServedMedia } from "./config.ts";
import type { SimRequest } from "./engine.ts";
import { DEFAULT_VIDEO_SECONDS, type MediaFile, type MediaLibrary } from "./media.ts";
import type { Outcome } from "./records.ts";
import type { ValidationIssue } from "./validate_input.ts";

export interface ProducerDeps {
  media: MediaLibrary;
  /** The simulator's own origin, e.g. `http://127.0.0.1:54323`. */
  baseUrl: string;
  resolve: (endpointId: string, kind: EndpointKind) => ResolvedEndpoint;
}

const DOWNLOAD_TIMEOUT_MS = 30_000;
const DOWNLOAD_MAX_BYTES = 512 * 1024 * 1024;

/** Creates the function that turns a finished request into its outcome. */
export function createProducer(
  deps: ProducerDeps,
): (req: SimRequest, signal: AbortSignal) => Promise<Outcome> {
  return async (req, signal) => {
    const { missingMedia: missing, servedMedia: served } = deps.resolve(req.endpointId, req.kind);
    const url = (file: { name: string }) =>
      served && !missing
        ? forgedMediaUrl(deps.baseUrl, req.requestId, file.name, served)
        : `${deps.baseUrl}/media/${missing ? "missing" : "files"}/${req.requestId}/${file.name}`;
    const input = (req.input ?? {}) as Record<string, unknown>;
    const fileInfo = (f: MediaFile) => ({
      url: url(f),
      content_type: served?.contentType ?? f.contentType,
      file_name: f.name,
      file_size: f.size,
    });
    switch (req.kind) {
      case "video": {
        const file = await deps.media.video(videoSeconds(input.duration));
        return { ok: true, payload: { video: fileInfo(file), seed: seedOf(input) } };
      }
      case "image": {
        const file = await deps.media.image();
        const n = Math.min(4, Math.max(1, Math.floor(Number(input.num_images ?? 1)) || 1));
        return {
          ok: true,
          payload: {
            images: Array.from({ length: n }, () => ({
              ...fileInfo(file),
              width: file.width,
              height: file.height,
            })),
            timings: { inference: req.inferenceSeconds ?? 0 },
            seed: seedOf(input),
            has_nsfw_concepts: Array.from({ length: n }, () => false),
            prompt: input.prompt,
          },
        };
      }
      case "audio": {
        const text = String(input.text ?? input.prompt ?? "");
        const words = text.match(/\S+/g)?.length ?? 1;
        const file = await deps.media.speech(Math.max(1, Math.ceil(words / 2.5)));
        return { ok: true, payload: { audio: fileInfo(file) } };
      }
      case "compose":
        return await compose(req, input, signal, missing);
    }
  };

  async function compose(
    req: SimRequest,
    input: Record<string, unknown>,
    signal: AbortSignal,
    missing: boolean,
  ): Promise<Outcome> {
    const tmp = await Deno.makeTempDir({ prefix: "fal-sim-compose-" });
    try {
      const tracks: LocalTrack[] = [];
      const rawTracks = input.tracks as {
        type: LocalTrack["type"];
        keyframes: { url: string; timestamp: number; duration: number }[];
      }[];
      for (const [t, track] of rawTracks.entries()) {
        const keyframes = [];
        for (const [k, kf] of track.keyframes.entries()) {
          const path = await localCopy(kf.url, `${tmp}/${t}_${k}`, signal);
          if (!path) {
            return invalid({
              loc: ["body", "tracks", t, "keyframes", k, "url"],
              msg: `Failed to download the file from ${kf.url}`,
              type: "file_download_error",
            });
          }
          keyframes.push({ path, timestampMs: kf.timestamp, durationMs: kf.duration });
        }
        tracks.push({ type: track.type, keyframes });
      }
      await Deno.mkdir(deps.media.composedDir, { recursive: true });
      const out = `${deps.media.composedDir}/${req.requestId}.mp4`;
      const thumb = `${deps.media.composedDir}/${req.requestId}.png`;
      try {
        await renderCompose(tracks, out, thumb, signal);
      } catch (e) {
        if (e instanceof ComposeInputError) {
          return invalid({ loc: ["body", "tracks"], msg: e.message, type: "media_error" });
        }
        throw e;
      }
      const at = missing ? "missing" : "composed";
      return {
        ok: true,
        payload: {
          video_url: `${deps.baseUrl}/media/${at}/${req.requestId}.mp4`,
          thumbnail_url: `${deps.baseUrl}/media/${at}/${req.requestId}.png`,
        },
      };
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }

  /** A local file with the URL's content: our own media directly, anything else downloaded. */
  async function localCopy(
    url: string,
    dest: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (parsed.origin === new URL(deps.baseUrl).origin) {
      const own = await ownMediaPath(parsed.pathname);
      if (own) return own;
    }
    try {
      const res = await fetch(parsed, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]),
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return undefined;
      }
      const file = await Deno.open(dest, { write: true, create: true, truncate: true });
      let total = 0;
      try {
        for await (const chunk of res.body) {
          total += chunk.byteLength;
          if (total > DOWNLOAD_MAX_BYTES) return undefined;
          await file.write(chunk);
        }
      } finally {
        file.close();
      }
      return dest;
    } catch {
      if (signal.aborted) throw signal.reason;
      return undefined;
    }
  }

  async function ownMediaPath(pathname: string): Promise<string | undefined> {
    const files = /^\/media\/files\/[^/]+\/([^/]+)$/.exec(pathname);
    if (files) return (await deps.media.find(files[1]!))?.path;
    const composed = /^\/media\/composed\/([0-9a-f-]+\.(?:mp4|png))$/.exec(pathname);
    if (composed) {
      const path = `${deps.media.composedDir}/${composed[1]}`;
      return (await Deno.stat(path).catch(() => undefined)) ? path : undefined;
    }
    return undefined;
  }
}

/**
 * The URL of a generated file served as the `servedMedia` knob says:
 * `/media/forged/<request id>/<file>/<served name>?body=…&type=…` (served name: the file's name
 * with the knob's extension).
 */
export function forgedMediaUrl(
  baseUrl: string,
  requestId: string,
  fileName: string,
  served: ServedMedia,
): string {
  const servedName = served.extension
    ? `${fileName.replace(/\.[^.]*$/, "")}.${served.extension}`
    : fileName;
  const q = new URLSearchParams({ body: served.body ?? "file" });
  if (served.contentType) q.set("type", served.contentType);
  return `${baseUrl}/media/forged/${requestId}/${encodeURIComponent(fileName)}/${
    encodeURIComponent(servedName)
  }?${q}`;
}

function invalid(issue: ValidationIssue): Outcome {
  return {
    ok: false,
    httpStatus: 422,
    body: { detail: [issue] },
    error: "Invalid status code: 422",
  };
}

/** Seconds of video a request asks for: `duration` as 5, "5" or "5s" (fal models vary). */
export function videoSeconds(duration: unknown): number {
  const n = typeof duration === "number" ? duration : parseFloat(String(duration ?? ""));
  return Number.isFinite(n) && n > 0 ? Math.min(60, Math.ceil(n)) : DEFAULT_VIDEO_SECONDS;
}

function seedOf(input: Record<string, unknown>): number {
  return typeof input.seed === "number" ? input.seed : Math.floor(Math.random() * 2 ** 31);
}
