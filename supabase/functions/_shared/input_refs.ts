/**
 * Files of ours that a job hands to fal (a start image, a story's scene images and narrations)
 * are stored in the job's input as `storage://<bucket>/<path>` and turned into short-lived signed
 * Storage URLs only when the job is submitted, so a retry hours later still gets a working URL
 * and no long-lived URL is ever stored. A reference must point into the job owner's own folder
 * (or the template images folder of `inputs`), so no input can make us sign another user's file.
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

function collect(value: unknown, out: Set<string>): void {
  if (typeof value === "string") {
    if (REF.test(value)) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) collect(v, out);
  }
}

function replace(value: unknown, urls: Map<string, string>): unknown {
  if (typeof value === "string") return urls.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replace(v, urls));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v, urls)]));
  }
  return value;
}

/** Returns `resolve(job)`: the job's input with every storage reference signed. */
export function createInputResolver(deps: {
  storage: StorageApi;
  env: Pick<Env, "SUPABASE_URL" | "PUBLIC_URL">;
  seconds?: number;
}): (job: { user_id: string; input: Record<string, unknown> }) => Promise<Record<string, unknown>> {
  const seconds = deps.seconds ?? INPUT_URL_SECONDS;
  const publicOrigin = deps.env.PUBLIC_URL ? new URL(deps.env.PUBLIC_URL).origin : null;
  const ownOrigin = new URL(deps.env.SUPABASE_URL).origin;
  return async (job) => {
    const refs = new Set<string>();
    collect(job.input, refs);
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
    return replace(job.input, urls) as Record<string, unknown>;
  };
}
