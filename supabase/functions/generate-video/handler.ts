/**
 * `generate-video`: validates the request, applies idempotency and limits, reserves credits and
 * inserts the job in one SQL call, answers `202 {job}` at once, then dispatches to fal in the
 * background (`waitUntil`). Nothing is written when validation, limits or credits say no.
 */
import type { Authenticate } from "../_shared/auth.ts";
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { requestHash } from "../_shared/hash.ts";
import { json, readJsonObject, withCors } from "../_shared/http.ts";
import type { Jobs } from "../_shared/jobs.ts";
import type { Logger } from "../_shared/log.ts";
import { type Model, type ModelCatalog, modelCost } from "../_shared/models.ts";
import { buildFalInput } from "../_shared/fal_input.ts";
import { describeIssue, GenerateRequest } from "./schema.ts";
import type { JwtClaims } from "../_shared/jwt.ts";

export interface GenerateDeps {
  authenticate: Authenticate;
  jobs: Jobs;
  models: ModelCatalog;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  limits: { USER_MAX_QUEUED: number; USER_SUBMITS_PER_MIN: number };
  log: Logger;
}

/** Server-side priority from the user's app_metadata (never from the request). */
export function priorityOf(claims: JwtClaims): number {
  const meta = (claims.app_metadata ?? {}) as Record<string, unknown>;
  if (typeof meta.priority === "number" && Number.isInteger(meta.priority)) {
    return Math.max(-100, Math.min(100, meta.priority));
  }
  return meta.plan === "pro" ? 10 : 0;
}

function checkOptions(model: Model, req: GenerateRequest): void {
  if (req.duration != null && model.durations?.length && !model.durations.includes(req.duration)) {
    throw new AppError(
      "invalid_input",
      `duration: ${model.id} accepts ${model.durations.join(", ")} seconds`,
    );
  }
  if (req.aspect_ratio && !(model.aspect_ratios ?? []).includes(req.aspect_ratio)) {
    throw new AppError(
      "invalid_input",
      model.aspect_ratios?.length
        ? `aspect_ratio: ${model.id} accepts ${model.aspect_ratios.join(", ")}`
        : `aspect_ratio: ${model.id} does not take an aspect ratio`,
    );
  }
  if (req.image_path && !model.accepts_image) {
    throw new AppError("invalid_input", `image_path: ${model.id} does not take a start image`);
  }
  const maxPrompt = model.input_schema.properties?.prompt?.maxLength;
  if (maxPrompt && req.prompt.length > maxPrompt) {
    throw new AppError(
      "invalid_input",
      `prompt: ${model.id} accepts at most ${maxPrompt} characters`,
    );
  }
}

/** Builds the request handler. */
export function createGenerateHandler(deps: GenerateDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method === "OPTIONS") return json("ok");
    try {
      if (req.method !== "POST") throw new AppError("method_not_allowed", "Use POST.");
      const user = await deps.authenticate(req);
      const body = await readJsonObject(req);
      const parsed = GenerateRequest.safeParse(body);
      if (!parsed.success) throw new AppError("invalid_input", describeIssue(parsed.error));
      const request = parsed.data;
      const headerKey = req.headers.get("idempotency-key");
      const idempotencyKey = request.idempotency_key ?? (headerKey?.trim() || null);
      if (idempotencyKey && idempotencyKey.length > 200) {
        throw new AppError("invalid_input", "idempotency_key: at most 200 characters");
      }
      const model = request.model
        ? await deps.models.get(request.model)
        : await deps.models.defaultFor("video");
      if (!model || model.kind !== "video") {
        throw new AppError(
          "invalid_input",
          `model: unknown video model ${request.model ?? ""}`.trim(),
        );
      }
      checkOptions(model, request);
      const duration = request.duration ?? model.default_duration;
      const input = buildFalInput(model, {
        prompt: request.prompt,
        duration,
        aspect_ratio: request.aspect_ratio,
      });
      const { idempotency_key: _key, ...hashed } = request;
      const created = await deps.jobs.create({
        userId: user.id,
        kind: "video",
        model: model.id,
        input: { ...input, ...(request.image_path ? { image_path: request.image_path } : {}) },
        cost: modelCost(model, duration),
        priority: priorityOf(user.claims),
        idempotencyKey,
        requestHash: await requestHash({ ...hashed, model: model.id }),
        limits: {
          max_queued: deps.limits.USER_MAX_QUEUED,
          submits_per_min: deps.limits.USER_SUBMITS_PER_MIN,
        },
      });
      deps.log(created.replayed ? "idempotent replay" : "job created", {
        job_id: created.job.id,
        user_id: user.id,
      });
      if (!created.replayed) {
        deps.waitUntil(
          deps.dispatch().catch((e) => deps.log("dispatch failed", { error: String(e) })),
        );
      }
      return json(
        { job: created.job },
        202,
        created.replayed ? { "idempotent-replayed": "true" } : {},
      );
    } catch (e) {
      return withCors(toErrorResponse(e, deps.log));
    }
  };
}
