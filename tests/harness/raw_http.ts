/**
 * One HTTP/1.1 request over a raw TCP connection to 127.0.0.1, for tests that must send a `Host`
 * header of their choosing (fetch always sends the URL's own host): what a browser sends after
 * a DNS-rebinding attack.
 */

/** The status, headers and body of the answer to one request (`Connection: close`). */
export async function rawHttp(
  port: number,
  opts: { method?: string; path: string; host: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: Headers; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `${opts.method ?? "GET"} ${opts.path} HTTP/1.1`,
      `Host: ${opts.host}`,
      "Connection: close",
      ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, c) => {
        const out = new Uint8Array(all.length + c.length);
        out.set(all);
        out.set(c, all.length);
        return out;
      }, new Uint8Array()),
    );
    const split = text.indexOf("\r\n\r\n");
    const [statusLine, ...headerLines] = text.slice(0, split).split("\r\n");
    const headers = new Headers();
    for (const line of headerLines) {
      const at = line.indexOf(":");
      if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
    let body = text.slice(split + 4);
    if (headers.get("transfer-encoding")?.includes("chunked")) body = unchunk(body);
    return { status: Number(statusLine?.split(" ")[1]), headers, body };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

function unchunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(body.slice(at, eol), 16);
    if (!size) break;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}
