/**
 * The simulator's media library: real files made once with ffmpeg and cached in `dataDir/media`
 * (a playable H.264/AAC MP4 per requested length, a PNG, a WAV per narration length), reused by
 * every request and by every later start. Files are written under a temporary name and renamed,
 * so a crash never leaves a half-written file that would be served later.
 */
import { ffmpeg } from "./ffmpeg.ts";

/** A file the simulator can serve, with what result payloads say about it. */
export interface MediaFile {
  name: string;
  path: string;
  size: number;
  contentType: string;
  width?: number;
  height?: number;
}

export interface MediaLibrary {
  /** Folder of the cached base media. */
  mediaDir: string;
  /** Folder of compose outputs. */
  composedDir: string;
  /** Makes the default media (first start only; later starts find them cached). */
  init(): Promise<void>;
  /** An MP4 of `seconds` (whole seconds, 1..60). */
  video(seconds: number): Promise<MediaFile>;
  image(): Promise<MediaFile>;
  /** A mono WAV of `seconds` (whole seconds, 1..120). */
  speech(seconds: number): Promise<MediaFile>;
  /** A cached base file by its public name, if it exists. */
  find(name: string): Promise<MediaFile | undefined>;
}

export const VIDEO_SIZE = { width: 640, height: 360 };
export const IMAGE_SIZE = { width: 1024, height: 576 };
export const DEFAULT_VIDEO_SECONDS = 5;
const NAME = /^(video_(\d+)s\.mp4|image\.png|speech_(\d+)s\.wav)$/;

/** Creates the library over `dataDir`; `signal` aborts ffmpeg runs when the simulator stops. */
export function createMediaLibrary(
  opts: { dataDir: string; log?: (line: string) => void; signal?: AbortSignal },
): MediaLibrary {
  const mediaDir = `${opts.dataDir}/media`;
  const composedDir = `${opts.dataDir}/composed`;
  const log = opts.log ?? (() => {});
  const pending = new Map<string, Promise<MediaFile>>();

  function ensure(
    name: string,
    contentType: string,
    size: { width: number; height: number } | undefined,
    make: (tmpPath: string) => string[],
  ): Promise<MediaFile> {
    let p = pending.get(name);
    if (!p) {
      p = (async () => {
        const path = `${mediaDir}/${name}`;
        const existing = await Deno.stat(path).catch(() => undefined);
        if (!existing) {
          await Deno.mkdir(mediaDir, { recursive: true });
          const ext = name.slice(name.lastIndexOf("."));
          const tmp = `${mediaDir}/.tmp-${crypto.randomUUID()}${ext}`;
          log(`media: generating ${name} with ffmpeg`);
          try {
            await ffmpeg(make(tmp), opts.signal);
            await Deno.rename(tmp, path);
          } catch (e) {
            await Deno.remove(tmp).catch(() => {});
            throw e;
          }
        }
        const stat = await Deno.stat(path);
        return { name, path, size: stat.size, contentType, ...size };
      })();
      // A failed generation must not poison the cache: the next request tries again.
      p.catch(() => pending.delete(name));
      pending.set(name, p);
    }
    return p;
  }

  const video = (seconds: number) => {
    const s = clampWhole(seconds, 1, 60);
    const { width, height } = VIDEO_SIZE;
    return ensure(`video_${s}s.mp4`, "video/mp4", VIDEO_SIZE, (tmp) => [
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${width}x${height}:rate=25:duration=${s}`,
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=440:sample_rate=44100:duration=${s}`,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "64k",
      "-shortest",
      "-movflags",
      "+faststart",
      tmp,
    ]);
  };
  const image = () => {
    const { width, height } = IMAGE_SIZE;
    return ensure("image.png", "image/png", IMAGE_SIZE, (tmp) => [
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${width}x${height}:rate=1`,
      "-frames:v",
      "1",
      tmp,
    ]);
  };
  const speech = (seconds: number) => {
    const s = clampWhole(seconds, 1, 120);
    return ensure(`speech_${s}s.wav`, "audio/wav", undefined, (tmp) => [
      "-f",
      "lavfi",
      // A warbling tone, so it is audibly "someone talking" rather than a test beep.
      "-i",
      `aevalsrc=0.4*sin(2*PI*(180+40*sin(2*PI*3*t))*t):s=24000:d=${s}`,
      "-ac",
      "1",
      "-c:a",
      "pcm_s16le",
      tmp,
    ]);
  };

  return {
    mediaDir,
    composedDir,
    async init() {
      await Promise.all([video(DEFAULT_VIDEO_SECONDS), image(), speech(3)]);
    },
    video,
    image,
    speech,
    find(name) {
      const m = NAME.exec(name);
      if (!m) return Promise.resolve(undefined);
      const path = `${mediaDir}/${name}`;
      return Deno.stat(path).then(
        (stat) => ({ name, path, size: stat.size, contentType: contentTypeOf(name) }),
        () => undefined,
      );
    },
  };
}

/** Content type by file extension, for the kinds of files the simulator serves. */
export function contentTypeOf(name: string): string {
  if (name.endsWith(".mp4")) return "video/mp4";
  if (name.endsWith(".png")) return "image/png";
  if (name.endsWith(".wav")) return "audio/wav";
  if (name.endsWith(".jpg")) return "image/jpeg";
  return "application/octet-stream";
}

function clampWhole(n: number, min: number, max: number): number {
  const whole = Math.ceil(Number.isFinite(n) ? n : min);
  return Math.min(max, Math.max(min, whole));
}
