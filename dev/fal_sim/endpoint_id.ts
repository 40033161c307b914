/**
 * fal endpoint ids: the app root that status/result/cancel URLs live under (`fal-ai/flux/dev` ->
 * `fal-ai/flux`; `workflows/<owner>/<app>/…` keeps its namespace, as @fal-ai/client builds it),
 * and the kind of output an id produces when the control API does not say otherwise.
 */
import type { EndpointKind } from "./config.ts";

const NAMESPACES = ["workflows", "comfy"];

/** The app root of an endpoint id, or undefined when the id has fewer than two segments. */
export function appRoot(endpointId: string): string | undefined {
  const parts = endpointId.split("/").filter((p) => p !== "");
  const first = parts[0];
  if (first !== undefined && NAMESPACES.includes(first)) {
    return parts.length >= 3 ? parts.slice(0, 3).join("/") : undefined;
  }
  return parts.length >= 2 ? parts.slice(0, 2).join("/") : undefined;
}

/** The output kind an endpoint id suggests (see the simulator README for the rules). */
export function guessKind(endpointId: string): EndpointKind {
  const id = endpointId.toLowerCase();
  if (id.includes("ffmpeg-api/compose")) return "compose";
  if (/(^|[/-])(tts|speech)([/-]|$)|kokoro|elevenlabs|text-to-speech/.test(id)) return "audio";
  if (id.includes("image-to-video") || id.includes("text-to-video")) return "video";
  if (
    id.includes("text-to-image") || id.startsWith("fal-ai/flux") || id.includes("/flux-") ||
    id.includes("imagen") || id.includes("recraft") || id.includes("ideogram") ||
    id.includes("stable-diffusion") || id.includes("sdxl") || id.includes("nano-banana")
  ) {
    return "image";
  }
  return "video";
}
