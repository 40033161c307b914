/**
 * How long a stored narration lasts, read from the first bytes of the file and its size: a
 * story's compose timeline holds each scene for exactly its narration. fal's TTS endpoints return
 * WAV (Kokoro) or MP3; both carry what we need near the start, so a 64 KB range read of our own
 * Storage copy is enough and no decoder runs in the function.
 */
import type { StorageApi } from "./media_copy.ts";

export interface AudioInfo {
  duration_ms: number;
  format: "wav" | "mp3";
  /** True when the duration is computed from a constant bitrate, not counted. */
  estimated?: boolean;
}

export const PROBE_BYTES = 64 * 1024;

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => (u16(b, at) + u16(b, at + 2) * 0x10000) >>> 0;
const ascii = (b: Uint8Array, at: number, text: string) =>
  [...text].every((c, i) => b[at + i] === c.charCodeAt(0));

function wavInfo(head: Uint8Array, total: number): AudioInfo | null {
  let at = 12;
  let byteRate = 0;
  while (at + 8 <= head.length) {
    const size = u32(head, at + 4);
    if (ascii(head, at, "fmt ") && at + 16 <= head.length) byteRate = u32(head, at + 16);
    if (ascii(head, at, "data")) {
      if (!byteRate) return null;
      const start = at + 8;
      // Streamed WAVs leave the size 0 or 0xFFFFFFFF; the file size is then the truth.
      const bytes = size === 0 || size === 0xffffffff || start + size > total
        ? total - start
        : size;
      return { duration_ms: Math.round((bytes * 1000) / byteRate), format: "wav" };
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

const MP3_BITRATES: Record<string, number[]> = {
  // kbit/s by index 1..14 for MPEG-1 Layer III and MPEG-2/2.5 Layer III.
  "1": [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2": [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};

function mp3Info(head: Uint8Array, total: number): AudioInfo | null {
  let at = 0;
  if (ascii(head, 0, "ID3") && head.length >= 10) {
    at = 10 + ((head[6]! & 0x7f) << 21 | (head[7]! & 0x7f) << 14 | (head[8]! & 0x7f) << 7 |
      (head[9]! & 0x7f));
  }
  for (; at + 4 <= head.length; at++) {
    if (head[at] !== 0xff || (head[at + 1]! & 0xe0) !== 0xe0) continue;
    const version = (head[at + 1]! >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    const layer = (head[at + 1]! >> 1) & 3; // 1 = Layer III
    const bitrateIndex = head[at + 2]! >> 4;
    const rateIndex = (head[at + 2]! >> 2) & 3;
    if (
      version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3
    ) {
      continue;
    }
    const kbps = MP3_BITRATES[version === 3 ? "1" : "2"]![bitrateIndex - 1]!;
    const sampleRate = MP3_RATES[version]![rateIndex]!;
    const samplesPerFrame = version === 3 ? 1152 : 576;
    const mono = (head[at + 3]! >> 6) === 3;
    // A Xing/Info header in the first frame counts the frames (VBR files have one).
    const side = version === 3 ? (mono ? 17 : 32) : (mono ? 9 : 17);
    const tag = at + 4 + side;
    if (
      tag + 12 <= head.length && (ascii(head, tag, "Xing") || ascii(head, tag, "Info")) &&
      (head[tag + 7]! & 1)
    ) {
      const frames = (head[tag + 8]! << 24 | head[tag + 9]! << 16 | head[tag + 10]! << 8 |
        head[tag + 11]!) >>> 0;
      return {
        duration_ms: Math.round((frames * samplesPerFrame * 1000) / sampleRate),
        format: "mp3",
      };
    }
    return {
      duration_ms: Math.round(((total - at) * 8) / kbps),
      format: "mp3",
      estimated: true,
    };
  }
  return null;
}

/** The duration of a WAV or MP3 file from its first bytes and its total size, or null. */
export function audioInfo(head: Uint8Array, totalBytes: number): AudioInfo | null {
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WAVE")) return wavInfo(head, totalBytes);
  return mp3Info(head, totalBytes);
}

/** Reads the start of `bucket/path` (service key, signed URL, byte range) and probes it. */
export async function probeStoredAudio(
  storage: StorageApi,
  bucket: string,
  path: string,
  doFetch: typeof fetch = fetch,
): Promise<AudioInfo | null> {
  const [url] = await storage.sign(bucket, [path], 60);
  if (!url) return null;
  const res = await doFetch(url, { headers: { range: `bytes=0-${PROBE_BYTES - 1}` } });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`storage answered ${res.status} reading ${bucket}/${path}`);
  }
  const range = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
  const total = Number(range?.[1] ?? res.headers.get("content-length") ?? "0");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  while (size < PROBE_BYTES) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const head = new Uint8Array(Math.min(size, PROBE_BYTES));
  let offset = 0;
  for (const c of chunks) {
    const n = Math.min(c.byteLength, head.length - offset);
    head.set(c.subarray(0, n), offset);
    offset += n;
    if (offset >= head.length) break;
  }
  return audioInfo(head, total || size);
}
