/**
 * Finishing a job whose result arrived: copy its media from fal into the `videos` bucket under
 * `<user_id>/<job_id>.<ext>`, the extension and type decided by the file's bytes from the job
 * kind's allowlist (media_types.ts), then complete it (which captures the credits, once). A media
 * URL that can never work, or a file that is not an allowed format (`media_type_not_allowed`),
 * fails the job and releases the credits; a transient failure leaves it
 * `finalizing` for the reconciler to retry. Audio (a story's narration) also gets its duration
 * recorded before completing, because the story's compose timeline is built from it (WAV and
 * MP3 only; an M4A narration falls back to the default scene length).
 */
import type { Env } from "./env.ts";
import { mediaUrlOf } from "./fal_result.ts";
import type { JobRow, Jobs } from "./jobs.ts";
import type { Logger } from "./log.ts";
import { copyMedia, MediaError, parseHosts, type StorageApi } from "./media_copy.ts";
import { probeStoredAudio } from "./media_probe.ts";

export const VIDEOS_BUCKET = "videos";

export interface FinalizeDeps {
  jobs: Jobs;
  storage: StorageApi;
  env: Pick<
    Env,
    "FAL_MEDIA_HOSTS" | "ALLOW_INSECURE_MEDIA" | "MEDIA_MAX_BYTES" | "MEDIA_TIMEOUT_MS"
  >;
  log: Logger;
  fetch?: typeof fetch;
}

/** Returns `finalize(job)`. */
export function createFinalize(deps: FinalizeDeps): (job: JobRow) => Promise<void> {
  const options = {
    allowedHosts: parseHosts(deps.env.FAL_MEDIA_HOSTS),
    allowInsecure: deps.env.ALLOW_INSECURE_MEDIA === "true",
    maxBytes: deps.env.MEDIA_MAX_BYTES,
    timeoutMs: deps.env.MEDIA_TIMEOUT_MS,
    fetch: deps.fetch,
  };
  return async (job) => {
    const url = mediaUrlOf(job.result);
    if (!url) {
      await deps.jobs.failed(
        job.id,
        "provider_no_media",
        "The provider's result has no media file.",
      );
      return;
    }
    let path: string;
    let format: string;
    try {
      ({ path, type: { format } } = await copyMedia(url, {
        storage: deps.storage,
        bucket: VIDEOS_BUCKET,
        kind: job.kind,
        pathFor: (type) => `${job.user_id}/${job.id}.${type.ext}`,
      }, options));
    } catch (e) {
      if (e instanceof MediaError && !e.transient) {
        deps.log("media copy refused", { job_id: job.id, code: e.code, error: e.message });
        await deps.jobs.failed(job.id, e.code, e.message);
        return;
      }
      deps.log("media copy failed, will retry", { job_id: job.id, error: String(e) });
      throw e;
    }
    if (job.kind === "audio" && (format === "wav" || format === "mp3")) {
      // A Storage hiccup throws: the job stays finalizing and the whole step is retried. A format
      // we cannot read is logged; the story timeline then falls back to a default scene length.
      const info = await probeStoredAudio(deps.storage, VIDEOS_BUCKET, path, deps.fetch);
      if (info) await deps.jobs.recordMedia(job.id, { ...info });
      else deps.log("audio duration unknown", { job_id: job.id, path });
    } else if (job.kind === "audio") {
      deps.log("audio duration unknown", { job_id: job.id, path, format });
    }
    const done = await deps.jobs.completed(job.id, path);
    deps.log(done ? "job completed" : "completion was a no-op", { job_id: job.id, path });
  };
}
