/** Reading fal result payloads: where the media URL is, and what a failure says. */

/** The URL of the main media file in a fal result payload, or null. */
export function mediaUrlOf(payload: unknown): string | null {
  const p = (payload ?? {}) as Record<string, unknown>;
  const urlOf = (v: unknown): string | null => {
    if (typeof v === "string") return v;
    if (v && typeof v === "object" && typeof (v as { url?: unknown }).url === "string") {
      return (v as { url: string }).url;
    }
    return null;
  };
  const images = Array.isArray(p.images) ? p.images[0] : undefined;
  return urlOf(p.video) ?? urlOf(p.video_url) ?? urlOf(p.audio) ?? urlOf(p.audio_url) ??
    urlOf(images) ?? urlOf(p.image) ?? urlOf(p.audio_file) ?? null;
}

/** The file extension to store a job's media under. */
export function extensionFor(kind: string, url: string): string {
  const fromUrl = /\.([a-z0-9]{2,4})(?:$|\?)/i.exec(new URL(url, "https://x").pathname)?.[1];
  if (fromUrl) return fromUrl.toLowerCase();
  return kind === "image" ? "png" : kind === "audio" ? "wav" : "mp4";
}

/** A stable error code and a readable message from a fal ERROR webhook or failed result. */
export function falFailure(
  error: unknown,
  payload: unknown,
): { code: string; message: string } {
  const body = (payload ?? {}) as { detail?: unknown; error_type?: unknown };
  const detail = body.detail;
  const first = Array.isArray(detail)
    ? detail[0] as Record<string, unknown> | undefined
    : undefined;
  const type = typeof first?.type === "string"
    ? first.type
    : typeof body.error_type === "string"
    ? body.error_type
    : null;
  const msg = typeof first?.msg === "string"
    ? first.msg
    : typeof detail === "string"
    ? detail
    : null;
  const loc = Array.isArray(first?.loc) ? (first.loc as unknown[]).join(".") : null;
  // fal's `error` is only "Invalid status code: N"; the detail is what a person can act on.
  const message = (msg && loc ? `${loc}: ${msg}` : msg) ??
    (typeof error === "string" && error ? error : "The provider could not generate this video.");
  const code = type && /valid|missing|type_error|value_error/.test(type)
    ? "provider_invalid_input"
    : type ?? "provider_error";
  return { code: code.slice(0, 64), message: message.slice(0, 500) };
}
