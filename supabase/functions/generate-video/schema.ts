/**
 * The request bodies of `generate-video` (zod schemas = TypeScript types): one video from a prompt
 * or a template (optionally animating a start image), a batch of such videos, a multi-scene story,
 * or the retry of a failed batch or story.
 */
import { z } from "zod";
import { BATCH_MAX_ITEMS, STORY_MAX_SCENES } from "../_shared/pipelines.ts";
import { describeIssue } from "../_shared/zod_issue.ts";

const videoFields = {
  prompt: z.string().trim().min(1, "must not be empty").max(2000).optional(),
  template_id: z.string().min(1).max(100).optional(),
  variables: z.record(
    z.string().regex(/^[A-Za-z0-9_]{1,40}$/, "variable names are letters, digits and _"),
    z.string().max(2000),
  ).optional(),
  model: z.string().min(1).max(100).optional(),
  duration: z.number().int().positive().max(120).optional(),
  aspect_ratio: z.string().min(1).max(10).optional(),
  image_path: z.string().min(1).max(500).optional(),
};

type VideoFields = {
  prompt?: string;
  template_id?: string;
};

function promptOrTemplate(v: VideoFields, ctx: z.RefinementCtx): void {
  if (v.prompt === undefined && v.template_id === undefined) {
    ctx.addIssue({ code: "custom", path: ["prompt"], message: "required (or a template_id)" });
  } else if (v.prompt !== undefined && v.template_id !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["template_id"],
      message: "give either a prompt or a template_id, not both",
    });
  }
}

const idempotencyKey = z.string().min(1).max(200).optional();

/** One video: `{prompt | template_id + variables, model?, duration?, aspect_ratio?, image_path?}`. */
export const GenerateRequest = z.object({ ...videoFields, idempotency_key: idempotencyKey })
  .strict().superRefine(promptOrTemplate);
export type GenerateRequest = z.infer<typeof GenerateRequest>;

/** One item of a batch: the same fields as a single video. */
export const BatchItem = z.object(videoFields).strict().superRefine(promptOrTemplate);
export type BatchItem = z.infer<typeof BatchItem>;

/** `{items: [...]}`: up to BATCH_MAX_ITEMS videos, reserved all or none. */
export const BatchRequest = z.object({
  kind: z.literal("batch").optional(),
  title: z.string().trim().min(1).max(200).optional(),
  items: z.array(BatchItem).min(1, "at least one item").max(
    BATCH_MAX_ITEMS,
    `at most ${BATCH_MAX_ITEMS} items`,
  ),
  idempotency_key: idempotencyKey,
}).strict();
export type BatchRequest = z.infer<typeof BatchRequest>;

export const Scene = z.object({
  text: z.string().trim().min(1, "must not be empty").max(5000),
  image_prompt: z.string().trim().min(1, "must not be empty").max(2000).optional(),
}).strict();

/** `{kind:'story', scenes:[{text, image_prompt?}], title?, voice?}`. */
export const StoryRequest = z.object({
  kind: z.literal("story"),
  title: z.string().trim().min(1).max(200).optional(),
  scenes: z.array(Scene).min(1, "at least one scene").max(
    STORY_MAX_SCENES,
    `at most ${STORY_MAX_SCENES} scenes`,
  ),
  voice: z.string().min(1).max(50).optional(),
  idempotency_key: idempotencyKey,
}).strict();
export type StoryRequest = z.infer<typeof StoryRequest>;

/** `{retry_of: <id of a failed or canceled batch or story>}`. */
export const RetryRequest = z.object({ retry_of: z.uuid("must be a job id") }).strict();
export type RetryRequest = z.infer<typeof RetryRequest>;

export type ParsedRequest =
  | { kind: "video"; request: GenerateRequest }
  | { kind: "batch"; request: BatchRequest }
  | { kind: "story"; request: StoryRequest }
  | { kind: "retry"; request: RetryRequest };

/** Picks the request shape from the body and validates it; `error` names the first bad field. */
export function parseRequest(
  body: Record<string, unknown>,
): { ok: true; value: ParsedRequest } | { ok: false; error: string } {
  const attempt = <T>(schema: z.ZodType<T>, wrap: (v: T) => ParsedRequest) => {
    const r = schema.safeParse(body);
    return r.success
      ? { ok: true as const, value: wrap(r.data) }
      : { ok: false as const, error: describeIssue(r.error) };
  };
  if (body.kind === "story") {
    return attempt(StoryRequest, (request) => ({ kind: "story", request }));
  }
  if (body.kind !== undefined && body.kind !== "batch") {
    return { ok: false, error: 'kind: must be "story" or "batch" (or left out for one video)' };
  }
  if ("items" in body || body.kind === "batch") {
    return attempt(BatchRequest, (request) => ({ kind: "batch", request }));
  }
  if ("retry_of" in body) return attempt(RetryRequest, (request) => ({ kind: "retry", request }));
  return attempt(GenerateRequest, (request) => ({ kind: "video", request }));
}
