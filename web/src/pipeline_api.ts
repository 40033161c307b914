/**
 * Calls for the multi-job features, on top of `api.ts`'s error handling: the template catalog,
 * requests that answer with a parent and its children (batch, story, a parent's retry), requests
 * that answer with one job (template, image-to-video), and the start-image upload to Storage.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import { ApiError, type FunctionsInvoker, toApiError } from "./api.ts";
import type { Catalog, ParentAnswer, SceneInput } from "./pipeline_types.ts";
import type { Job } from "./types.ts";

/** Image types and size the `inputs` bucket accepts (the function checks again). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024;

/** Why a file cannot be a start image, or null when it can. */
export function imageProblem(file: { type: string; size: number }): string | null {
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) {
    return "Choose a PNG, JPEG, WebP or GIF image.";
  }
  if (file.size > IMAGE_MAX_BYTES) return "The image is larger than 10 MB.";
  return null;
}

/** The request bodies that make one job. */
export type SingleRequest =
  | { template_id: string; variables: Record<string, string>; model?: string; image_path?: string }
  | { prompt: string; image_path: string; model: string };

/** The request bodies that make a parent and children. */
export type ParentRequest =
  | { items: { prompt: string; model?: string }[]; title?: string }
  | { kind: "story"; scenes: SceneInput[]; title?: string; voice?: string }
  | { retry_of: string };

/** Typed calls over an invoker (`supabase.functions`). */
export function createPipelineApi(functions: FunctionsInvoker) {
  async function call<T>(
    name: string,
    options: NonNullable<Parameters<FunctionsInvoker["invoke"]>[1]>,
  ): Promise<T> {
    let result: Awaited<ReturnType<FunctionsInvoker["invoke"]>>;
    try {
      result = await functions.invoke(name, options);
    } catch (e) {
      throw await toApiError(e);
    }
    if (result.error) throw await toApiError(result.error, result.response);
    if (result.data === null || typeof result.data !== "object") {
      throw new ApiError("bad_response", `Unexpected answer from ${name.split("?")[0]}.`, 200);
    }
    return result.data as T;
  }
  return {
    /** The template catalog with batch and story limits (public). */
    catalog: () => call<Catalog>("generate-video?templates", { method: "GET" }),
    /** A template or image-to-video job: 202 `{job}`. */
    async single(body: SingleRequest, key: string): Promise<Job> {
      const { job } = await call<{ job: Job }>("generate-video", {
        method: "POST",
        body: { ...body },
        headers: { "Idempotency-Key": key },
      });
      return job;
    },
    /** A batch, a story or a failed parent's retry: 202 `{parent, jobs}`. */
    parent: (body: ParentRequest, key: string) =>
      call<ParentAnswer>("generate-video", {
        method: "POST",
        body: { ...body },
        headers: { "Idempotency-Key": key },
      }),
  };
}

/** The file name's extension for a start image of `type`. */
function extensionOf(type: string): string {
  return type === "image/jpeg" ? "jpg" : type.replace("image/", "");
}

/**
 * Uploads a start image to `inputs/<uid>/<random>.<ext>` (the bucket's policy allows only the
 * user's own folder) and returns the path for `image_path`.
 */
export async function uploadStartImage(
  supabase: SupabaseClient,
  userId: string,
  file: File,
): Promise<string> {
  const problem = imageProblem(file);
  if (problem) throw new ApiError("invalid_input", problem, 400);
  const path = `${userId}/${crypto.randomUUID()}.${extensionOf(file.type)}`;
  const { error } = await supabase.storage.from("inputs").upload(path, file, {
    contentType: file.type,
    upsert: false,
  });
  if (error) throw new ApiError("upload_failed", `Upload failed: ${error.message}`, 0);
  return path;
}
