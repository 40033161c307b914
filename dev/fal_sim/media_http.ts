/**
 * Serves a media file the way a CDN does: streamed, with Content-Length, and with single byte
 * ranges (`Range: bytes=a-b`) so browsers can seek in the MP4s. HEAD answers headers only.
 */

/** A streamed response for `path`, honouring a single-range `Range` header. */
export async function fileResponse(
  req: Request,
  path: string,
  contentType: string,
): Promise<Response> {
  const stat = await Deno.stat(path).catch(() => undefined);
  if (!stat?.isFile) return new Response("Not Found", { status: 404 });
  const size = stat.size;
  const headers = new Headers({
    "content-type": contentType,
    "accept-ranges": "bytes",
    "cache-control": "public, max-age=3600",
  });
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.get("range");
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    const parsed = m ? parseRange(m[1] ?? "", m[2] ?? "", size) : undefined;
    if (!parsed) {
      headers.set("content-range", `bytes */${size}`);
      return new Response(null, { status: 416, headers });
    }
    [start, end] = parsed;
    status = 206;
    headers.set("content-range", `bytes ${start}-${end}/${size}`);
  }
  const length = size === 0 ? 0 : end - start + 1;
  headers.set("content-length", String(length));
  if (req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  const file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  let left = length;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = await file.read(buf);
      if (n === null || n === 0) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
      if (left <= 0) {
        file.close();
        controller.close();
      }
    },
    cancel() {
      file.close();
    },
  });
  return new Response(body, { status, headers });
}

function parseRange(a: string, b: string, size: number): [number, number] | undefined {
  if (a === "" && b === "") return undefined;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return undefined;
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return undefined;
  return [start, end];
}
