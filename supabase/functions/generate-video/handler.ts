/**
 * `generate-video`: validates the request, applies idempotency and limits, reserves credits and
 * inserts the job(s) in one SQL call, answers `202` at once, then dispatches to fal in the
 * background (`waitUntil`). Nothing is written when validation, limits or credits say no. Start
 * images cost Storage requests (a copy, a signing call and a download each), so they are checked
 * last: after everything the catalog can decide and after a dry run of the create (limits,
 * credits, idempotency), and each distinct image once per request.
 *
 *   {prompt | template_id + variables, model?, duration?, aspect_ratio?, image_path?} → {job}
 *   {items: [those, …], title?}                                    → {parent, jobs} (all or none)
 *   {kind: "story", scenes: [{text, image_prompt?}], title?, voice?}  → {parent, jobs}
 *   {retry_of: <failed or canceled batch/story>}                      → {parent, jobs}
 *   GET ?templates → the template catalog, batch and story limits (public, for pickers).
 */
import type { CreateChecks } from "../_shared/create_checks.ts";
import type { DiscardInputImages } from "../_shared/input_images.ts";
import { priorityOf } from "../_shared/priority.ts";
import type { Authenticate, AuthUser } from "../_shared/auth.ts";
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { requestHash } from "../_shared/hash.ts";
import { json, readJsonObject, withCors } from "../_shared/http.ts";
import type { Jobs } from "../_shared/jobs.ts";
import type { Logger } from "../_shared/log.ts";
import { modelCost } from "../_shared/models.ts";
import {
  BATCH_MAX_ITEMS,
  type ParentWithChildren,
  type Pipelines,
  STORY_MAX_SCENES,
  storyChildren,
  type StoryModels,
} from "../_shared/pipelines.ts";
import { publicTemplate } from "../_shared/templates.ts";
import {
  type BatchRequest,
  type GenerateRequest,
  parseRequest,
  type StoryRequest,
} from "./schema.ts";
import {
  buildVideo,
  imageKey,
  type PlannedVideo,
  planVideo,
  type VideoRequestDeps,
} from "./video_request.ts";

export interface GenerateDeps extends VideoRequestDeps {
  authenticate: Authenticate;
  jobs: Jobs;
  pipelines: Pipelines;
  /** Dry runs of the creates: limits and credits before any start image is checked. */
  checks: CreateChecks;
  /** Removes start-image snapshots made for a request that created nothing new. */
  discardImages: DiscardInputImages;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  limits: { USER_MAX_QUEUED: number; USER_SUBMITS_PER_MIN: number };
  log: Logger;
}

/** Builds the request handler. */
export function createGenerateHandler(deps: GenerateDeps): (req: Request) => Promise<Response> {
  const limitsOf = () => ({
    max_queued: deps.limits.USER_MAX_QUEUED,
    submits_per_min: deps.limits.USER_SUBMITS_PER_MIN,
  });

  function accepted(
    body: Record<string, unknown>,
    replayed: boolean,
    ids: Record<string, unknown>,
  ) {
    deps.log(replayed ? "idempotent replay" : "accepted", ids);
    if (!replayed) {
      deps.waitUntil(
        deps.dispatch().catch((e) => deps.log("dispatch failed", { error: String(e) })),
      );
    }
    return json(body, 202, replayed ? { "idempotent-replayed": "true" } : {});
  }

  function parentAnswer(user: AuthUser, created: ParentWithChildren): Response {
    return accepted(
      { parent: created.parent, jobs: created.jobs },
      created.replayed,
      { job_id: created.parent.id, user_id: user.id, children: created.jobs.length },
    );
  }

  /**
   * Checks each distinct start image of `plans` once; resolves to the reference per image key.
   * A refusal names the first item that uses the image (`items.<i>.` when `prefixed`); the
   * snapshots already made are then discarded.
   */
  async function checkImages(
    user: AuthUser,
    plans: PlannedVideo[],
    prefixed: boolean,
  ): Promise<Map<string, string>> {
    const firstUse = new Map<string, number>();
    plans.forEach((p, i) => {
      if (p.image && !firstUse.has(imageKey(p.image))) firstUse.set(imageKey(p.image), i);
    });
    const keys = [...firstUse.keys()];
    const settled = await Promise.allSettled(keys.map((k) => {
      const image = plans[firstUse.get(k)!]!.image!;
      return deps.checkImage(user, image.path, { trusted: image.trusted });
    }));
    const refs = new Map<string, string>();
    settled.forEach((r, i) => r.status === "fulfilled" && refs.set(keys[i]!, r.value));
    const failed = settled.findIndex((r) => r.status === "rejected");
    if (failed >= 0) {
      await deps.discardImages([...refs.values()]);
      const e = (settled[failed] as PromiseRejectedResult).reason;
      const item = firstUse.get(keys[failed]!)!;
      if (prefixed && e instanceof AppError) {
        throw new AppError(e.code, `items.${item}.${e.message}`, e.headers);
      }
      throw e;
    }
    return refs;
  }

  /** Runs `create`; the snapshots behind `refs` go when it fails or only replays. */
  async function keepingImages<T extends { replayed: boolean }>(
    refs: Iterable<string>,
    create: () => Promise<T>,
  ): Promise<T> {
    const made = [...refs];
    try {
      const created = await create();
      if (created.replayed) await deps.discardImages(made);
      return created;
    } catch (e) {
      await deps.discardImages(made);
      throw e;
    }
  }

  async function video(user: AuthUser, request: GenerateRequest, key: string | null) {
    const { idempotency_key: _key, ...hashed } = request;
    const plan = await planVideo(deps, request);
    const args = {
      userId: user.id,
      kind: "video",
      model: plan.model.id,
      cost: plan.cost,
      priority: priorityOf(user.claims),
      idempotencyKey: key,
      requestHash: await requestHash({ ...hashed, model: plan.model.id }),
      limits: limitsOf(),
    };
    let refs = new Map<string, string>();
    if (plan.image) {
      await deps.checks.job({ ...args, input: buildVideo(plan, null).input });
      refs = await checkImages(user, [plan], false);
    }
    const ref = plan.image ? refs.get(imageKey(plan.image))! : null;
    const created = await keepingImages(
      refs.values(),
      () => deps.jobs.create({ ...args, input: buildVideo(plan, ref).input }),
    );
    return accepted({ job: created.job }, created.replayed, {
      job_id: created.job.id,
      user_id: user.id,
    });
  }

  async function batch(user: AuthUser, request: BatchRequest, key: string | null) {
    const settled = await Promise.allSettled(request.items.map((item) => planVideo(deps, item)));
    const plans = settled.map((r, i) => {
      if (r.status === "fulfilled") return r.value;
      const e = r.reason;
      if (e instanceof AppError) throw new AppError(e.code, `items.${i}.${e.message}`, e.headers);
      throw e;
    });
    const childrenWith = (refs: Map<string, string>) =>
      plans.map((p, i) => {
        const built = buildVideo(p, p.image ? refs.get(imageKey(p.image)) ?? null : null);
        return {
          kind: "video" as const,
          model: built.model.id,
          input: built.input,
          cost: built.cost,
          item: i + 1,
        };
      });
    const { idempotency_key: _key, ...hashed } = request;
    const n = plans.length;
    const args = {
      userId: user.id,
      kind: "batch" as const,
      input: { prompt: request.title ?? `Batch of ${n} video${n === 1 ? "" : "s"}`, items: n },
      priority: priorityOf(user.claims),
      idempotencyKey: key,
      requestHash: await requestHash({ kind: "batch", ...hashed }),
      limits: limitsOf(),
    };
    let refs = new Map<string, string>();
    if (plans.some((p) => p.image)) {
      await deps.checks.parent({ ...args, children: childrenWith(refs) });
      refs = await checkImages(user, plans, true);
    }
    return parentAnswer(
      user,
      await keepingImages(
        refs.values(),
        () => deps.pipelines.create({ ...args, children: childrenWith(refs) }),
      ),
    );
  }

  async function storyModels(): Promise<StoryModels> {
    const [image, audio, compose] = await Promise.all([
      deps.models.defaultFor("image"),
      deps.models.defaultFor("audio"),
      deps.models.defaultFor("compose"),
    ]);
    if (!image || !audio || !compose) {
      throw new AppError("unavailable", "Stories are not available: a model they need is off.");
    }
    return { image, audio, compose };
  }

  async function story(user: AuthUser, request: StoryRequest, key: string | null) {
    const children = storyChildren(await storyModels(), request.scenes, { voice: request.voice });
    const { idempotency_key: _key, ...hashed } = request;
    const n = request.scenes.length;
    return parentAnswer(
      user,
      await deps.pipelines.create({
        userId: user.id,
        kind: "story",
        input: {
          prompt: request.title ?? `Story of ${n} scene${n === 1 ? "" : "s"}`,
          scenes: n,
          ...(request.voice ? { voice: request.voice } : {}),
        },
        children,
        priority: priorityOf(user.claims),
        idempotencyKey: key,
        requestHash: await requestHash(hashed),
        limits: limitsOf(),
      }),
    );
  }

  async function catalog(): Promise<Response> {
    const [templates, models] = await Promise.all([deps.templates.list(), deps.models.list()]);
    const byId = new Map(models.map((m) => [m.id, m]));
    const story = await storyModels().catch(() => null);
    const voices = story?.audio.input_schema.properties?.voice?.enum ?? [];
    return json({
      templates: templates.flatMap((t) => {
        const model = byId.get(t.model);
        if (!model) return [];
        const needsImage = model.accepts_image && t.default_image_path === null &&
          (model.input_schema.required ?? []).includes("image_url");
        return [publicTemplate(t, {
          accepts_image: model.accepts_image,
          needs_image: needsImage,
          credits: modelCost(model),
        })];
      }),
      batch: { max_items: BATCH_MAX_ITEMS },
      story: story
        ? {
          max_scenes: STORY_MAX_SCENES,
          credits_per_scene: modelCost(story.image) + modelCost(story.audio),
          credits_base: modelCost(story.compose),
          voices,
        }
        : null,
    });
  }

  return async (req) => {
    if (req.method === "OPTIONS") return json("ok");
    try {
      if (req.method === "GET" && new URL(req.url).searchParams.has("templates")) {
        return await catalog();
      }
      if (req.method !== "POST") throw new AppError("method_not_allowed", "Use POST.");
      const user = await deps.authenticate(req);
      const body = await readJsonObject(req);
      const parsed = parseRequest(body);
      if (!parsed.ok) throw new AppError("invalid_input", parsed.error);
      const headerKey = req.headers.get("idempotency-key")?.trim() || null;
      const bodyKey = "idempotency_key" in parsed.value.request
        ? parsed.value.request.idempotency_key ?? null
        : null;
      const key = bodyKey ?? headerKey;
      if (key && key.length > 200) {
        throw new AppError("invalid_input", "idempotency_key: at most 200 characters");
      }
      switch (parsed.value.kind) {
        case "video":
          return await video(user, parsed.value.request, key);
        case "batch":
          return await batch(user, parsed.value.request, key);
        case "story":
          return await story(user, parsed.value.request, key);
        case "retry":
          return parentAnswer(
            user,
            await deps.pipelines.retry({
              userId: user.id,
              parentId: parsed.value.request.retry_of,
              priority: priorityOf(user.claims),
              limits: limitsOf(),
            }),
          );
      }
    } catch (e) {
      return withCors(toErrorResponse(e, deps.log));
    }
  };
}
