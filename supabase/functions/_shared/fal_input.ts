/**
 * Builds a model's fal input from our uniform request fields, following the model's JSON schema:
 * only fields the endpoint declares are sent, in the type it declares (fal endpoints disagree on
 * whether `duration` is 5, "5" or "5s").
 */
import type { JsonSchema, Model } from "./models.ts";

export interface UniformInput {
  prompt: string;
  duration?: number | null;
  aspect_ratio?: string | null;
  image_url?: string | null;
}

function coerceDuration(schema: JsonSchema, seconds: number): unknown {
  const options = schema.enum;
  if (options?.length) {
    return options.find((o) => Number(String(o).replace(/s$/, "")) === seconds) ?? null;
  }
  return schema.type === "string" ? String(seconds) : seconds;
}

/** The input object to submit to fal for `model`. */
export function buildFalInput(model: Model, input: UniformInput): Record<string, unknown> {
  const props = model.input_schema.properties ?? {};
  const out: Record<string, unknown> = { prompt: input.prompt };
  if (input.duration != null && props.duration) {
    const value = coerceDuration(props.duration, input.duration);
    if (value !== null) out.duration = value;
  }
  if (input.aspect_ratio && props.aspect_ratio) out.aspect_ratio = input.aspect_ratio;
  if (input.image_url) {
    const field = ["image_url", "start_image_url", "first_frame_image"].find((f) => props[f]);
    if (field) out[field] = input.image_url;
  }
  return out;
}
