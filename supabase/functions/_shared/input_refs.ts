/**
 * Files of ours that a job hands to fal (a start image, a story's scene images and narrations)
 * are stored in the job's input as `storage://<bucket>/<path>` and turned into short-lived signed
 * Storage URLs only when the job is submitted, so a retry hours later still gets a working URL
 * and no long-lived URL is ever stored. Only the fields that take media are resolved (per job
 * kind, `MEDIA_FIELDS`): a prompt that happens to read `storage://…` is sent as the text it is,
 * and never makes us sign a file. A reference must point into the job owner's own folder (or the
 * template images folder of `inputs`), so no input can make us sign another user's file.
 * With PUBLIC_URL set (a tunnel to a laptop's stack), URLs use it, since fal cannot reach 127.0.0.1.
 */
import type { Env } from "./env.ts";
import type { StorageApi } from "./media_copy.ts";

const REF = /^storage:\/\/(inputs|videos)\/(.+)$/;
const TEMPLATE_FOLDER = "templates";
/**
 * fal fetches inputs when the request starts; our dispatcher submits only when a slot is free, so
 * the wait at fal is short. A new URL is signed for every submit attempt.
 */
export const INPUT_URL_SECONDS = 15 * 60;

/** The reference stored in a job's input for `bucket/path`. */
export function storageRef(bucket: "inputs" | "videos", path: string): string {
  return `storage://${bucket}/${path}`;
}

/** A reference that can never be signed: the job cannot run (its credits are released). */
export class InputRefError extends Error {
  override name = "InputRefError";
}

/**
 * Where a job's input takes media, per job kind: paths of keys, `*` for every element of an
 * array. A video's start image (the field fal_input.ts fills), a compose job's track keyframes
 * (filled by vidqueue.parent_sync). Image and audio jobs take none.
 */
export const MEDIA_FIELDS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  video: [["image_url"], ["start_image_url"], ["first_frame_image"]],
  compose: [["tracks", "*", "keyframes", "*", "url"]],
};

/** Calls `visit` with each string at `path` in `value`; its answer replaces the string. */
function mapAt(
  value: unknown,
  path: readonly string[],
  visit: (s: string) => string,
): unknown {
  if (path.length === 0) return typeof value === "string" ? visit(value) : value;
  const [key, ...rest] = path as [string, ...string[]];
  if (key === "*") {
    return Array.isArray(value) ? value.map((v) => mapAt(v, rest, visit)) : value;
  }
  if (!value || typeof value !== "object" || Array.isArray(value) || !(key in value)) return value;
  const obj = value as Record<string, unknown>;
  return { ...obj, [key]: mapAt(obj[key], rest, visit) };
}

/** Applies `visit` to every media field of a `kind` job's input; returns the new input. */
function mapMediaFields(
  kind: string,
  input: Record<string, unknown>,
  visit: (s: string) => string,
): Record<string, unknown> {
  let out: unknown = input;
  for (const path of MEDIA_FIELDS[kind] ?? []) out = mapAt(out, path, visit);
  return out as Record<string, unknown>;
}

/** Returns `resolve(job)`: the job's input with the storage references in its media fields signed. */
export function createInputResolver(deps: {
  storage: StorageApi;
  env: Pick<Env, "SUPABASE_URL" | "PUBLIC_URL">;
  seconds?: number;
}): (
  job: { user_id: string; kind: string; input: Record<string, unknown> },
) => Promise<Record<string, unknown>> {
  const seconds = deps.seconds ?? INPUT_URL_SECONDS;
  const publicOrigin = deps.env.PUBLIC_URL ? new URL(deps.env.PUBLIC_URL).origin : null;
  const ownOrigin = new URL(deps.env.SUPABASE_URL).origin;
  return async (job) => {
    const refs = new Set<string>();
    mapMediaFields(job.kind, job.input, (v) => (REF.test(v) && refs.add(v), v));
    if (refs.size === 0) return job.input;
    const byBucket = new Map<string, { ref: string; path: string }[]>();
    for (const ref of refs) {
      const [, bucket, path] = REF.exec(ref)!;
      const folder = path!.split("/")[0];
      const allowed = folder === job.user_id ||
        (bucket === "inputs" && folder === TEMPLATE_FOLDER);
      if (!allowed || path!.split("/").some((s) => s === ".." || s === "")) {
        throw new InputRefError(`the input refers to a file outside the owner's folder: ${ref}`);
      }
      byBucket.set(bucket!, [...(byBucket.get(bucket!) ?? []), { ref, path: path! }]);
    }
    const urls = new Map<string, string>();
    for (const [bucket, items] of byBucket) {
      const signed = await deps.storage.sign(bucket, items.map((i) => i.path), seconds);
      items.forEach((item, i) => {
        const url = signed[i];
        if (!url) {
          throw new InputRefError(`the file ${bucket}/${item.path} is no longer in Storage`);
        }
        urls.set(
          item.ref,
          publicOrigin && url.startsWith(ownOrigin)
            ? publicOrigin + url.slice(ownOrigin.length)
            : url,
        );
      });
    }
    return mapMediaFields(job.kind, job.input, (v) => urls.get(v) ?? v);
  };
}
