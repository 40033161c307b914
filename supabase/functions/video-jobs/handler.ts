/**
 * `video-jobs`: a user's jobs and credits (read through RLS), one job with a fresh signed URL,
 * the model catalog, and the actions cancel, retry and delete. Reads are only ever triggered by
 * the client (snapshot on subscribe, one signed URL per completed job), never by a timer. A
 * delete removes only the Storage objects no other live job of the user refers to (jobs share
 * them: retried batches, stories and their compose job, start-image snapshots; job_media.ts).
 */
import type { Authenticate, AuthUser } from "../_shared/auth.ts";
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import type { FalGateway } from "../_shared/fal.ts";
import { json, readJsonObject, withCors } from "../_shared/http.ts";
import type { JobRow, Jobs, PublicJob } from "../_shared/jobs.ts";
import type { Logger } from "../_shared/log.ts";
import type { ModelCatalog } from "../_shared/models.ts";
import { modelCost } from "../_shared/models.ts";
import type { JobMedia } from "../_shared/job_media.ts";
import type { StorageApi } from "../_shared/media_copy.ts";
import { VIDEOS_BUCKET } from "../_shared/finalize.ts";
import { ActionRequest, decodeCursor, encodeCursor } from "./schema.ts";
import type { Pipelines } from "../_shared/pipelines.ts";
import { priorityOf } from "../_shared/priority.ts";
import { describeIssue } from "../_shared/zod_issue.ts";

export interface VideoJobsDeps {
  authenticate: Authenticate;
  jobs: Jobs;
  models: ModelCatalog;
  storage: StorageApi;
  media: JobMedia;
  fal: FalGateway;
  pipelines: Pick<Pipelines, "retry" | "children">;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  limits: { USER_MAX_QUEUED: number; USER_SUBMITS_PER_MIN: number };
  log: Logger;
}

/** Signed URLs live an hour; the client asks again when a `<video>` reports an expired one. */
const SIGNED_URL_SECONDS = 3600;
const TERMINAL = new Set(["completed", "failed", "canceled"]);
const PARENT_KINDS = new Set(["batch", "story"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createVideoJobsHandler(deps: VideoJobsDeps): (req: Request) => Promise<Response> {
  async function withUrls(jobs: PublicJob[], paths: (string | null)[]): Promise<PublicJob[]> {
    const wanted = paths.map((p, i) => (p && jobs[i]?.status === "completed" ? p : null));
    const present = wanted.filter((p): p is string => p !== null);
    const signed = await deps.storage.sign(VIDEOS_BUCKET, present, SIGNED_URL_SECONDS);
    let k = 0;
    return jobs.map((job, i) => ({ ...job, video_url: wanted[i] ? signed[k++] ?? null : null }));
  }

  async function modelsList(): Promise<Response> {
    const models = (await deps.models.list()).map((m) => ({
      id: m.id,
      title: m.title,
      kind: m.kind,
      credits: modelCost(m, m.default_duration),
      cost_per_second: m.cost_per_second,
      default_duration: m.default_duration,
      durations: m.durations ?? [],
      aspect_ratios: m.aspect_ratios ?? [],
      expected_seconds: m.expected_seconds,
      accepts_image: m.accepts_image,
    }));
    return json({ models });
  }

  async function getOne(user: AuthUser, id: string): Promise<Response> {
    // Not a job id of ours is the same answer as someone else's job: 404, never a cast error.
    if (!UUID.test(id)) throw new AppError("not_found", "No such job.");
    const found = await deps.jobs.getForUser(user, id);
    if (!found) throw new AppError("not_found", "No such job.");
    const [job] = await withUrls([found.job], [found.row.storage_path]);
    return json({ job });
  }

  async function list(user: AuthUser, url: URL): Promise<Response> {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? "50") || 50));
    const cursor = url.searchParams.get("cursor");
    const before = cursor ? decodeCursor(cursor) : undefined;
    if (cursor && !before) {
      throw new AppError("invalid_input", "cursor: not a cursor from this API");
    }
    const [jobs, credits] = await Promise.all([
      deps.jobs.listForUser(user, { limit: limit + 1, before }),
      deps.jobs.creditsForUser(user),
    ]);
    const page = jobs.slice(0, limit);
    const last = page.at(-1)?.job;
    return json({
      jobs: await withUrls(page.map((p) => p.job), page.map((p) => p.storagePath)),
      credits,
      next_cursor: jobs.length > limit && last ? encodeCursor(last) : null,
    });
  }

  async function askFalToCancel(job: JobRow): Promise<void> {
    if (!job.cancel_requested_at || !job.provider_request_id || TERMINAL.has(job.status)) return;
    const model = await deps.models.get(job.model);
    if (!model) return;
    await deps.fal.cancel(model.endpoint_id, job.provider_request_id).catch((e) =>
      deps.log("fal cancel failed", { job_id: job.id, error: String(e) })
    );
  }

  async function act(user: AuthUser, req: Request): Promise<Response> {
    const parsed = ActionRequest.safeParse(await readJsonObject(req));
    if (!parsed.success) throw new AppError("invalid_input", describeIssue(parsed.error));
    const { action, id } = parsed.data;
    const found = await deps.jobs.getForUser(user, id);
    if (!found) throw new AppError("not_found", "No such job.");
    const row = found.row;
    switch (action) {
      case "cancel": {
        if (TERMINAL.has(row.status)) {
          throw new AppError("conflict", `The job is already ${row.status}.`);
        }
        const after = await deps.jobs.cancel(id, user.id);
        // A parent's cancel marks its children at fal; each is asked to stop like a single job.
        const atFal = PARENT_KINDS.has(row.kind)
          ? await deps.jobs.childrenAtFal(id)
          : after
          ? [after]
          : [];
        await Promise.all(atFal.map(askFalToCancel));
        if (after?.status === "canceled") deps.waitUntil(deps.dispatch().catch(() => {}));
        return json({ job: await deps.jobs.publicJob(id) });
      }
      case "retry": {
        if (row.status !== "failed" && row.status !== "canceled") {
          throw new AppError("conflict", "Only failed or canceled jobs can be retried.");
        }
        const limits = {
          max_queued: deps.limits.USER_MAX_QUEUED,
          submits_per_min: deps.limits.USER_SUBMITS_PER_MIN,
        };
        if (PARENT_KINDS.has(row.kind)) {
          // A new batch/story that reuses finished children and redoes the rest.
          const retried = await deps.pipelines.retry({
            userId: user.id,
            parentId: id,
            priority: priorityOf(user.claims),
            limits,
          });
          if (!retried.replayed) deps.waitUntil(deps.dispatch().catch(() => {}));
          return json({ parent: retried.parent, jobs: retried.jobs }, retried.replayed ? 200 : 202);
        }
        const model = await deps.models.get(row.model);
        if (!model) throw new AppError("conflict", `Model ${row.model} is no longer available.`);
        const created = await deps.jobs.create({
          userId: user.id,
          kind: row.kind,
          model: row.model,
          input: row.input,
          cost: row.cost,
          priority: priorityOf(user.claims),
          idempotencyKey: `retry:${id}`,
          requestHash: `retry:${id}`,
          limits,
          parentId: row.parent_id,
          retryOf: id,
        });
        if (!created.replayed) deps.waitUntil(deps.dispatch().catch(() => {}));
        return json({ job: created.job }, created.replayed ? 200 : 202);
      }
      case "delete": {
        if (!TERMINAL.has(row.status)) {
          throw new AppError("conflict", "Cancel the job before deleting it.");
        }
        const removed = await deps.jobs.remove(id, user.id);
        if (!removed) throw new AppError("not_found", "No such job.");
        // Asked after the delete committed, so of two racing deletes the later one sees both.
        const unused = await deps.media.unusedAfterDelete(id, user.id);
        for (const bucket of new Set(unused.map((o) => o.bucket))) {
          const names = unused.filter((o) => o.bucket === bucket).map((o) => o.name);
          await deps.storage.remove(bucket, names).catch((e) =>
            deps.log("storage remove failed", { job_id: id, bucket, error: String(e) })
          );
        }
        return json({ job: { ...(await deps.jobs.publicJob(id)), video_url: null } });
      }
    }
  }

  return async (req) => {
    if (req.method === "OPTIONS") return json("ok");
    try {
      const url = new URL(req.url);
      if (req.method === "GET" && url.searchParams.has("models")) return await modelsList();
      const user = await deps.authenticate(req);
      if (req.method === "GET") {
        const id = url.searchParams.get("id");
        return id ? await getOne(user, id) : await list(user, url);
      }
      if (req.method === "POST") return await act(user, req);
      throw new AppError("method_not_allowed", "Use GET or POST.");
    } catch (e) {
      return withCors(toErrorResponse(e, deps.log));
    }
  };
}
