/**
 * The simulator's `fal-ai/ffmpeg-api/compose`: lays out the keyframes of fal's track input
 * (`tracks: [{id, type: "video"|"image"|"audio", keyframes: [{url, timestamp, duration}]}]`,
 * times in milliseconds) on one timeline and renders it with ffmpeg. Images are held for their
 * duration, videos are trimmed or hold their last frame, gaps are black/silent, audio tracks are
 * mixed. The output lasts until the last keyframe ends, so back-to-back scenes add up exactly.
 */
import { ffmpeg, ffprobe } from "./ffmpeg.ts";
import { VIDEO_SIZE } from "./media.ts";

/** A keyframe whose media has been fetched to a local file. */
export interface LocalKeyframe {
  path: string;
  timestampMs: number;
  durationMs: number;
}

/** A track whose keyframes are local files. */
export interface LocalTrack {
  type: "video" | "image" | "audio";
  keyframes: LocalKeyframe[];
}

/** What was rendered. */
export interface ComposeResult {
  durationMs: number;
}

const FPS = 25;
const MAX_TOTAL_MS = 10 * 60 * 1000;

/** Renders `tracks` into an MP4 at `outPath` and a PNG thumbnail at `thumbPath`. */
export async function renderCompose(
  tracks: LocalTrack[],
  outPath: string,
  thumbPath: string,
  signal?: AbortSignal,
): Promise<ComposeResult> {
  const totalMs = Math.max(
    0,
    ...tracks.flatMap((t) => t.keyframes.map((k) => k.timestampMs + k.durationMs)),
  );
  if (totalMs <= 0) throw new ComposeInputError("the tracks have no keyframes");
  if (totalMs > MAX_TOTAL_MS) throw new ComposeInputError("the composition is longer than 10 min");

  const inputs: string[] = [];
  const filters: string[] = [];
  let inputIndex = 0;
  const { width, height } = VIDEO_SIZE;
  const secs = (ms: number) => (ms / 1000).toFixed(3);

  // Visual: every image/video keyframe on one timeline, in time order, overlaps clipped.
  const visual = tracks.filter((t) => t.type !== "audio").flatMap((t) => t.keyframes);
  const visualSegments: string[] = [];
  let cursor = 0;
  const gap = (ms: number, label: string) => {
    filters.push(`color=c=black:s=${width}x${height}:r=${FPS}:d=${secs(ms)},setsar=1[${label}]`);
    visualSegments.push(`[${label}]`);
  };
  for (const kf of [...visual].sort((a, b) => a.timestampMs - b.timestampMs)) {
    const start = Math.max(kf.timestampMs, cursor);
    const end = kf.timestampMs + kf.durationMs;
    if (end <= start) continue;
    if (start > cursor) gap(start - cursor, `vg${visualSegments.length}`);
    const d = secs(end - start);
    const isImage = await looksLikeImage(kf.path, signal);
    if (isImage) inputs.push("-loop", "1", "-framerate", String(FPS), "-t", d, "-i", kf.path);
    else inputs.push("-i", kf.path);
    const label = `v${visualSegments.length}`;
    filters.push(
      `[${inputIndex}:v]scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
        `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps=${FPS},` +
        `format=yuv420p,tpad=stop_mode=clone:stop_duration=${d},trim=duration=${d},` +
        `setpts=PTS-STARTPTS[${label}]`,
    );
    visualSegments.push(`[${label}]`);
    inputIndex++;
    cursor = end;
  }
  if (cursor < totalMs) gap(totalMs - cursor, `vg${visualSegments.length}`);
  filters.push(
    `${visualSegments.join("")}concat=n=${visualSegments.length}:v=1:a=0,format=yuv420p[vout]`,
  );

  // Audio: each audio track laid out on its own, then the tracks are mixed.
  const AFMT = "aformat=sample_fmts=fltp:sample_rates=44100:channel_layouts=stereo";
  const trackLabels: string[] = [];
  tracks.filter((t) => t.type === "audio").forEach((track, t) => {
    const segments: string[] = [];
    let at = 0;
    const silence = (ms: number) => {
      const label = `as${t}_${segments.length}`;
      filters.push(`anullsrc=r=44100:cl=stereo,${AFMT},atrim=duration=${secs(ms)}[${label}]`);
      segments.push(`[${label}]`);
    };
    for (const kf of [...track.keyframes].sort((a, b) => a.timestampMs - b.timestampMs)) {
      const start = Math.max(kf.timestampMs, at);
      const end = kf.timestampMs + kf.durationMs;
      if (end <= start) continue;
      if (start > at) silence(start - at);
      inputs.push("-i", kf.path);
      const label = `a${t}_${segments.length}`;
      filters.push(
        `[${inputIndex}:a]aresample=44100,${AFMT},apad,atrim=duration=${
          secs(end - start)
        },asetpts=PTS-STARTPTS[${label}]`,
      );
      segments.push(`[${label}]`);
      inputIndex++;
      at = end;
    }
    if (at < totalMs) silence(totalMs - at);
    filters.push(`${segments.join("")}concat=n=${segments.length}:v=0:a=1[at${t}]`);
    trackLabels.push(`[at${t}]`);
  });
  if (trackLabels.length === 0) {
    filters.push(`anullsrc=r=44100:cl=stereo,${AFMT},atrim=duration=${secs(totalMs)}[aout]`);
  } else if (trackLabels.length === 1) {
    filters.push(`${trackLabels[0]}anull[aout]`);
  } else {
    filters.push(
      `${trackLabels.join("")}amix=inputs=${trackLabels.length}:duration=longest:` +
        `dropout_transition=0:normalize=0[aout]`,
    );
  }

  try {
    await ffmpeg([
      ...inputs,
      "-filter_complex",
      filters.join(";"),
      "-map",
      "[vout]",
      "-map",
      "[aout]",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-b:a",
      "96k",
      "-t",
      secs(totalMs),
      "-movflags",
      "+faststart",
      outPath,
    ], signal);
    await ffmpeg(["-i", outPath, "-frames:v", "1", "-vf", "scale=320:-2", thumbPath], signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ComposeInputError(`the media could not be processed: ${(e as Error).message}`);
  }
  return { durationMs: totalMs };
}

/** The inputs were unusable (fal answers these with 422). */
export class ComposeInputError extends Error {
  override name = "ComposeInputError";
}

async function looksLikeImage(path: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const probe = await ffprobe(path, signal);
    return /image2|_pipe|^png|^mjpeg|^webp/.test(probe.formatName);
  } catch {
    throw new ComposeInputError(`unreadable media file`);
  }
}
