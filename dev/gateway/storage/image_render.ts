/**
 * Renders a transformed image with ffmpeg, standing in for the imgproxy that Supabase Storage
 * calls: the source limits Storage's imgproxy runs with (25 MB, 50 megapixels), imgproxy's
 * per-format default qualities (jpeg 80, webp 80, avif 62), WebP when the client accepts it and
 * no format was asked for, and Storage's error texts for sources it cannot render. Still images
 * only (the first frame of an animation).
 */
import { ERRORS } from "./errors.ts";
import { plan, type TransformOptions } from "./transform.ts";

const MAX_SOURCE_BYTES = 25_000_000;
const MAX_SOURCE_PIXELS = 50_000_000;
const DEFAULT_QUALITY = { jpeg: 80, webp: 80, avif: 62 } as const;

type Format = "jpeg" | "png" | "webp" | "gif" | "avif";
const SOURCE_CODECS: Record<string, Format> = {
  mjpeg: "jpeg",
  png: "png",
  webp: "webp",
  gif: "gif",
};
const CONTENT_TYPES: Record<Format, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
};

/** A rendered image. */
export interface RenderedImage {
  bytes: Uint8Array;
  contentType: string;
}

const unsupported = () =>
  ERRORS.imageProcessing(400, "The source image is invalid or unsupported for rendering");

async function probe(path: string): Promise<{ w: number; h: number; format: Format }> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-select_streams", "v:0", "-print_format", "json", "-show_streams", path],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw unsupported();
  const stream = (JSON.parse(new TextDecoder().decode(out.stdout)) as {
    streams?: { codec_name?: string; width?: number; height?: number }[];
  }).streams?.[0];
  const format = SOURCE_CODECS[stream?.codec_name ?? ""];
  if (!stream || !format || !stream.width || !stream.height) throw unsupported();
  return { w: stream.width, h: stream.height, format };
}

function encoderArgs(format: Format, quality: number | undefined): string[] {
  switch (format) {
    case "jpeg": {
      const q = quality ?? DEFAULT_QUALITY.jpeg;
      const qscale = String(Math.round(2 + (100 - q) * 29 / 99));
      return ["-c:v", "mjpeg", "-q:v", qscale, "-f", "image2", "-update", "1"];
    }
    case "webp":
      return ["-c:v", "libwebp", "-quality", String(quality ?? DEFAULT_QUALITY.webp), "-f", "webp"];
    case "avif": {
      const q = quality ?? DEFAULT_QUALITY.avif;
      return [
        ...["-c:v", "libaom-av1", "-still-picture", "1", "-cpu-used", "8"],
        ...["-crf", String(Math.round(63 * (100 - q) / 100)), "-pix_fmt", "yuv420p", "-f", "avif"],
      ];
    }
    case "gif":
      return ["-f", "gif"];
    case "png":
      return ["-c:v", "png", "-f", "image2", "-update", "1"];
  }
}

/**
 * Transforms the image at `path` (`size` bytes). `accept` is the client's Accept header, used
 * for the automatic WebP choice when no format was asked for.
 */
export async function renderImage(
  source: { path: string; size: number },
  options: TransformOptions,
  accept: string | null,
): Promise<RenderedImage> {
  if (source.size > MAX_SOURCE_BYTES) {
    throw ERRORS.imageProcessing(400, "The source image file is too large to process");
  }
  const src = await probe(source.path);
  if (src.w * src.h > MAX_SOURCE_PIXELS) {
    throw ERRORS.imageProcessing(400, "The source image resolution is too large to process");
  }
  const output: Format = options.format === "avif" || options.format === "webp"
    ? options.format
    : options.format !== "origin" && /image\/webp/.test(accept ?? "")
    ? "webp"
    : src.format;
  const geometry = plan(src, options);
  const filters: string[] = [];
  if (geometry.scale) filters.push(`scale=${geometry.scale.w}:${geometry.scale.h}:flags=lanczos`);
  if (geometry.crop) {
    const c = geometry.crop;
    filters.push(`crop=${c.w}:${c.h}:${c.x}:${c.y}`);
  }
  // Some muxers (AVIF) need a seekable output, so ffmpeg writes a temporary file.
  const target = await Deno.makeTempFile({ prefix: "vq-render-" });
  try {
    const out = await new Deno.Command("ffmpeg", {
      args: [
        ...["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", source.path],
        ...["-frames:v", "1", ...(filters.length ? ["-vf", filters.join(",")] : [])],
        ...encoderArgs(output, options.quality),
        target,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    const bytes = out.success ? await Deno.readFile(target) : new Uint8Array();
    if (bytes.byteLength === 0) throw ERRORS.imageProcessing(500, "Internal error");
    return { bytes, contentType: CONTENT_TYPES[output] };
  } finally {
    await Deno.remove(target).catch(() => {});
  }
}
