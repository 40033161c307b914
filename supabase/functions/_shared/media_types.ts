/**
 * What a job's stored media may be: per job kind an allowlist of formats, each with the one
 * extension and content type we store it under, recognised by the file's first bytes. The
 * provider's `Content-Type`, its file name and its URL decide nothing: a result that is really
 * an HTML page (or anything else off the list) is never stored, whatever it claims to be, so our
 * `videos` bucket only ever serves media under media types.
 */

/** A format we store: the extension of `<user_id>/<job_id>.<ext>` and the object's type. */
export interface StoredType {
  format: "mp4" | "webm" | "png" | "jpeg" | "webp" | "wav" | "mp3" | "m4a";
  ext: string;
  contentType: string;
}

const TYPES: Record<StoredType["format"], StoredType> = {
  mp4: { format: "mp4", ext: "mp4", contentType: "video/mp4" },
  webm: { format: "webm", ext: "webm", contentType: "video/webm" },
  png: { format: "png", ext: "png", contentType: "image/png" },
  jpeg: { format: "jpeg", ext: "jpg", contentType: "image/jpeg" },
  webp: { format: "webp", ext: "webp", contentType: "image/webp" },
  wav: { format: "wav", ext: "wav", contentType: "audio/wav" },
  mp3: { format: "mp3", ext: "mp3", contentType: "audio/mpeg" },
  m4a: { format: "m4a", ext: "m4a", contentType: "audio/mp4" },
};

/** The formats a job of each kind may store (a compose job makes a video). */
export const ALLOWED_FORMATS: Readonly<Record<string, readonly StoredType["format"][]>> = {
  video: ["mp4", "webm"],
  compose: ["mp4", "webm"],
  image: ["png", "jpeg", "webp"],
  audio: ["wav", "mp3", "m4a"],
};

/** How many leading bytes `sniffMedia` needs to decide. */
export const SNIFF_BYTES = 64;

const ascii = (b: Uint8Array, at: number, text: string) =>
  [...text].every((c, i) => b[at + i] === c.charCodeAt(0));
const u32be = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

const AUDIO_BRANDS = new Set(["M4A ", "M4B "]);

/** The brands of an ISO base media file's `ftyp` box (major first), or null. */
function isoBrands(head: Uint8Array): string[] | null {
  if (head.length < 12 || !ascii(head, 4, "ftyp")) return null;
  const size = Math.min(u32be(head, 0), head.length);
  const brand = (at: number) => String.fromCharCode(...head.subarray(at, at + 4));
  const brands = [brand(8)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(brand(at));
  return brands;
}

/** An MPEG audio Layer III frame header at `at` (as media_probe.ts reads it). */
function mp3Frame(head: Uint8Array, at: number): boolean {
  if (head.length < at + 4 || head[at] !== 0xff || (head[at + 1]! & 0xe0) !== 0xe0) return false;
  const version = (head[at + 1]! >> 3) & 3;
  const layer = (head[at + 1]! >> 1) & 3;
  const bitrate = head[at + 2]! >> 4;
  const rate = (head[at + 2]! >> 2) & 3;
  return version !== 1 && layer === 1 && bitrate !== 0 && bitrate !== 15 && rate !== 3;
}

/** The format of a file from its first bytes (at least `SNIFF_BYTES` when it has them), or null. */
export function sniffMedia(head: Uint8Array): StoredType | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return TYPES.png;
  if (starts(0xff, 0xd8, 0xff)) return TYPES.jpeg;
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WEBP")) return TYPES.webp;
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WAVE")) return TYPES.wav;
  const brands = isoBrands(head);
  if (brands) {
    if (AUDIO_BRANDS.has(brands[0]!)) return TYPES.m4a;
    // QuickTime (`qt  `) and 3GPP files are ISO-like but not MP4.
    if (brands[0] === "qt  " || brands[0]!.startsWith("3g")) return null;
    return TYPES.mp4;
  }
  if (starts(0x1a, 0x45, 0xdf, 0xa3)) {
    // EBML: WebM's DocType element (0x4282, one-byte length 0x84) says "webm"; Matroska is not.
    for (let at = 4; at + 7 <= head.length; at++) {
      if (head[at] === 0x42 && head[at + 1] === 0x82 && head[at + 2] === 0x84) {
        return ascii(head, at + 3, "webm") ? TYPES.webm : null;
      }
    }
    return null;
  }
  if (ascii(head, 0, "ID3") || mp3Frame(head, 0)) return TYPES.mp3;
  return null;
}

/** The stored type for a `kind` job's file starting with `head`, or null when it is not allowed. */
export function allowedStoredType(kind: string, head: Uint8Array): StoredType | null {
  const type = sniffMedia(head);
  const allowed = ALLOWED_FORMATS[kind] ?? [];
  return type && allowed.includes(type.format) ? type : null;
}

/** A readable list of what `kind` may store, for error messages. */
export function describeAllowed(kind: string): string {
  return (ALLOWED_FORMATS[kind] ?? []).map((f) => TYPES[f].ext).join(", ") || "nothing";
}
