/**
 * A small multipart/form-data reader for Storage uploads. storage-js sends the file as a part
 * with an empty name (`name=""`), which Deno's `Request.formData()` silently drops, so the
 * gateway parses the body itself (buffered: uploads are bounded by the bucket's size limit).
 */

export interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Uint8Array;
}

/** Raised when the body is larger than allowed. */
export class BodyTooLargeError extends Error {}

/** Reads a whole body, refusing more than `max` bytes. */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > max) throw new BodyTooLargeError();
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The boundary of a multipart content type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!).trim() : null;
}

/** Splits a multipart body into its parts (headers decoded as UTF-8). */
export function parseMultipart(body: Uint8Array, boundary: string): Part[] {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const delimiter = enc.encode(`--${boundary}`);
  const headerEnd = enc.encode("\r\n\r\n");
  const parts: Part[] = [];
  let pos = indexOf(body, delimiter, 0);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body[start] === 45 && body[start + 1] === 45) break; // "--": closing delimiter
    if (body[start] === 13 && body[start + 1] === 10) start += 2;
    const next = indexOf(body, delimiter, start);
    if (next < 0) break;
    // Part content ends with CRLF before the next delimiter.
    const end = next >= 2 && body[next - 2] === 13 && body[next - 1] === 10 ? next - 2 : next;
    const split = indexOf(body, headerEnd, start);
    if (split < 0 || split > end) {
      pos = next;
      continue;
    }
    const headers = dec.decode(body.subarray(start, split)).split("\r\n");
    let name = "";
    let filename: string | null = null;
    let contentType: string | null = null;
    for (const h of headers) {
      const colon = h.indexOf(":");
      if (colon < 0) continue;
      const key = h.slice(0, colon).trim().toLowerCase();
      const value = h.slice(colon + 1).trim();
      if (key === "content-disposition") {
        name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? "";
        filename = /\bfilename="([^"]*)"/i.exec(value)?.[1] ?? null;
      } else if (key === "content-type") contentType = value;
    }
    parts.push({ name, filename, contentType, data: body.subarray(split + 4, end) });
    pos = next;
  }
  return parts;
}
