/**
 * Image transformation options as supabase/storage takes them (`transformationOptionsSchema`,
 * `ImageRenderer.applyTransformation` and `setTransformationsFromString`): validated from a
 * render URL's query or a signing body, written into a signed URL's `transformations` claim and
 * read back, and turned into imgproxy's processing options (the `X-Transformations` header).
 * `plan` decides the output geometry the way imgproxy does for Storage's resize modes.
 */
import { ERRORS } from "./errors.ts";

/** The options storage-js sends (`width`, `height`, `resize`, `format`, `quality`, gravity). */
export interface TransformOptions {
  width?: number;
  height?: number;
  resize?: "cover" | "contain" | "fill";
  format?: "origin" | "avif" | "webp";
  quality?: number;
  gravity?: Gravity;
  x_offset?: number;
  y_offset?: number;
}

type Gravity = "no" | "so" | "ea" | "we" | "noea" | "nowe" | "soea" | "sowe" | "ce" | "sm" | "fp";
const GRAVITIES = ["no", "so", "ea", "we", "noea", "nowe", "soea", "sowe", "ce", "sm", "fp"];

/** Hosted Supabase clamps width and height to 1–2500 (Storage clamps, it does not refuse). */
export const SIZE_LIMIT = { min: 1, max: 2500 };

const clamp = (n: number, min: number, max: number) => Math.min(Math.max(n, min), max);

/**
 * Validates transformation options; `at` names where they came from in Fastify's messages
 * (`querystring` or `body/transform`). Query values arrive as strings and are coerced.
 */
export function parseTransform(raw: Record<string, unknown>, at: string): TransformOptions {
  const out: TransformOptions = {};
  const num = (name: string, integer: boolean): number | undefined => {
    const v = raw[name];
    if (v === undefined) return undefined;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw ERRORS.validation(`${at}/${name} must be ${integer ? "integer" : "number"}`);
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly string[]): T | undefined => {
    const v = raw[name];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !allowed.includes(v)) {
      throw ERRORS.validation(`${at}/${name} must be equal to one of the allowed values`);
    }
    return v as T;
  };
  const min = (name: string, n: number | undefined, floor: number) => {
    if (n !== undefined && n < floor) throw ERRORS.validation(`${at}/${name} must be >= ${floor}`);
    return n;
  };
  out.height = min("height", num("height", true), 0);
  out.width = min("width", num("width", true), 0);
  out.resize = oneOf("resize", ["cover", "contain", "fill"]);
  out.format = oneOf("format", ["origin", "avif", "webp"]);
  out.quality = min("quality", num("quality", true), 20);
  if (out.quality !== undefined && out.quality > 100) {
    throw ERRORS.validation(`${at}/quality must be <= 100`);
  }
  out.gravity = oneOf<Gravity>("gravity", GRAVITIES);
  out.x_offset = num("x_offset", false);
  out.y_offset = num("y_offset", false);
  if (out.gravity === "fp") {
    for (const name of ["x_offset", "y_offset"] as const) {
      if (out[name] === undefined) {
        throw ERRORS.validation(`${at} must have required property '${name}'`);
      }
      if (out[name]! < 0 || out[name]! > 1) {
        throw ERRORS.validation(`${at}/${name} must be ${out[name]! < 0 ? ">= 0" : "<= 1"}`);
      }
    }
  }
  for (const k of Object.keys(out) as (keyof TransformOptions)[]) {
    if (out[k] === undefined) delete out[k];
  }
  return out;
}

/** True when the options ask for any transformation at all. */
export function hasTransform(o: TransformOptions): boolean {
  return Object.keys(o).length > 0;
}

/**
 * Storage's `applyTransformation`: imgproxy's segments (`keepOriginal` false), or the form kept
 * in a signed URL's token (`keepOriginal` true, which writes `resize:<mode>` as given, even
 * `resize:undefined`).
 */
export function transformationSegments(o: TransformOptions, keepOriginal: boolean): string[] {
  const s: string[] = [];
  if (o.height) s.push(`height:${clamp(o.height, SIZE_LIMIT.min, SIZE_LIMIT.max)}`);
  if (o.width) s.push(`width:${clamp(o.width, SIZE_LIMIT.min, SIZE_LIMIT.max)}`);
  if (o.width || o.height) {
    s.push(keepOriginal ? `resize:${o.resize}` : `resizing_type:${imgproxyResize(o.resize)}`);
  }
  if (o.quality) s.push(`quality:${o.quality}`);
  if (o.format && o.format !== "origin") s.push(`format:${o.format}`);
  if (o.gravity === "sm") s.push("gravity:sm");
  else if (o.gravity === "fp") s.push(`gravity:fp:${o.x_offset}:${o.y_offset}`);
  else if (o.gravity) {
    s.push(
      o.x_offset === undefined && o.y_offset === undefined
        ? `gravity:${o.gravity}`
        : `gravity:${o.gravity}:${o.x_offset ?? 0}:${o.y_offset ?? 0}`,
    );
  }
  return s;
}

function imgproxyResize(resize: TransformOptions["resize"]): "fill" | "fit" | "force" {
  return resize === "contain" ? "fit" : resize === "fill" ? "force" : "fill";
}

/** Storage's `setTransformationsFromString`: reads a signed URL's `transformations` claim. */
export function transformFromClaim(text: string): TransformOptions {
  const o: TransformOptions = {};
  for (const part of text.split(",")) {
    const [name, value, x, y] = part.split(":");
    if (value === undefined || value === "") continue;
    if (name === "height") o.height = parseInt(value, 10);
    else if (name === "width") o.width = parseInt(value, 10);
    else if (name === "resize") o.resize = value as TransformOptions["resize"];
    else if (name === "format") o.format = value as TransformOptions["format"];
    else if (name === "quality") o.quality = parseInt(value, 10);
    else if (name === "gravity") {
      o.gravity = value as Gravity;
      if (x && Number.isFinite(parseFloat(x))) o.x_offset = parseFloat(x);
      if (y && Number.isFinite(parseFloat(y))) o.y_offset = parseFloat(y);
    }
  }
  return o;
}

/** Output geometry: scale to `scale`, then (cover) crop `crop` out of the scaled image. */
export interface Plan {
  scale: { w: number; h: number } | null;
  crop: { w: number; h: number; x: number; y: number } | null;
}

/**
 * What imgproxy does for Storage's options with its defaults (no enlarging): `cover` (imgproxy
 * `fill`) scales to cover the box and crops by gravity, `contain` (`fit`) scales to fit inside,
 * `fill` (`force`) stretches to the box; a missing side follows the aspect ratio.
 */
export function plan(src: { w: number; h: number }, o: TransformOptions): Plan {
  const W = o.width ? clamp(o.width, SIZE_LIMIT.min, SIZE_LIMIT.max) : 0;
  const H = o.height ? clamp(o.height, SIZE_LIMIT.min, SIZE_LIMIT.max) : 0;
  if (!W && !H) return { scale: null, crop: null };
  const mode = imgproxyResize(o.resize);
  const scaled = (s: number) => ({
    w: Math.max(1, Math.round(src.w * Math.min(s, 1))),
    h: Math.max(1, Math.round(src.h * Math.min(s, 1))),
  });
  if (!W || !H) return { scale: scaled(W ? W / src.w : H / src.h), crop: null };
  if (mode === "fit") return { scale: scaled(Math.min(W / src.w, H / src.h)), crop: null };
  if (mode === "force") {
    return { scale: { w: Math.min(W, src.w), h: Math.min(H, src.h) }, crop: null };
  }
  const scale = scaled(Math.max(W / src.w, H / src.h));
  const cw = Math.min(W, scale.w);
  const ch = Math.min(H, scale.h);
  if (cw === scale.w && ch === scale.h) return { scale, crop: null };
  const [gx, gy] = gravityPoint(o);
  const x = Math.round(clamp(gx * scale.w - cw / 2, 0, scale.w - cw));
  const y = Math.round(clamp(gy * scale.h - ch / 2, 0, scale.h - ch));
  return { scale, crop: { w: cw, h: ch, x, y } };
}

/** The point (as fractions of the image) a crop centres on. */
function gravityPoint(o: TransformOptions): [number, number] {
  if (o.gravity === "fp") return [o.x_offset ?? 0.5, o.y_offset ?? 0.5];
  const g = o.gravity ?? "ce";
  const x = g.includes("we") ? 0 : g.includes("ea") ? 1 : 0.5;
  const y = g.startsWith("no") ? 0 : g.startsWith("so") ? 1 : 0.5;
  return [x, y];
}
