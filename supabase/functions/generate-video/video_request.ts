/**
 * One video request (alone or as a batch item) turned into what a job needs: the model, fal's
 * input and the cost. The prompt comes from the request or from a template filled with its
 * variables; a start image (`image_path`, or the template's default image) is checked and stored
 * as a Storage reference the dispatcher signs at submit time. Every refusal is a 400 naming the
 * field, before any credit moves. In two steps, so the costly one runs last: `planVideo` decides
 * everything from the catalog alone (model, options, cost, which image), then the caller checks
 * its limits and each distinct start image once, and `buildVideo` puts the image's reference in.
 */
import { AppError } from "../_shared/errors.ts";
import { buildFalInput } from "../_shared/fal_input.ts";
import { type CheckInputImage, normalizeInputPath } from "../_shared/input_images.ts";
import { type Model, type ModelCatalog, modelCost } from "../_shared/models.ts";
import { renderTemplate, type TemplateCatalog } from "../_shared/templates.ts";
import type { BatchItem } from "./schema.ts";

export interface VideoRequestDeps {
  models: ModelCatalog;
  templates: TemplateCatalog;
  checkImage: CheckInputImage;
}

/** A validated video: what to store as the job. */
export interface ResolvedVideo {
  model: Model;
  input: Record<string, unknown>;
  cost: number;
}

function checkOptions(model: Model, req: BatchItem, prompt: string, imagePath?: string): void {
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
  if (imagePath && !model.accepts_image) {
    throw new AppError("invalid_input", `image_path: ${model.id} does not take a start image`);
  }
  const needsImage = model.accepts_image &&
    (model.input_schema.required ?? []).some((f) =>
      ["image_url", "start_image_url", "first_frame_image"].includes(f)
    );
  if (needsImage && !imagePath) {
    throw new AppError("invalid_input", `image_path: ${model.id} needs a start image`);
  }
  const maxPrompt = model.input_schema.properties?.prompt?.maxLength;
  if (maxPrompt && prompt.length > maxPrompt) {
    throw new AppError(
      "invalid_input",
      `prompt: ${model.id} accepts at most ${maxPrompt} characters`,
    );
  }
}

async function pickModel(
  deps: VideoRequestDeps,
  req: BatchItem,
  templateModel: string | null,
  wantsImage: boolean,
): Promise<Model> {
  let model: Model | null;
  if (req.model) model = await deps.models.get(req.model);
  else if (templateModel) model = await deps.models.get(templateModel);
  else if (wantsImage) {
    model = (await deps.models.list()).find((m) => m.kind === "video" && m.accepts_image) ?? null;
    if (!model) throw new AppError("invalid_input", "image_path: no model takes a start image");
  } else model = await deps.models.defaultFor("video");
  if (!model || model.kind !== "video") {
    throw new AppError(
      "invalid_input",
      `model: unknown video model ${req.model ?? templateModel ?? ""}`.trim(),
    );
  }
  return model;
}

/** A video request decided without touching Storage: its image is still to be checked. */
export interface PlannedVideo {
  model: Model;
  cost: number;
  prompt: string;
  duration: number | null;
  aspect_ratio: string | null;
  /** The start image to check, if any (`trusted`: the template's own image). */
  image: { path: string; trusted: boolean } | null;
}

/** Validates one video request for `user` from the catalog alone (no Storage request). */
export async function planVideo(deps: VideoRequestDeps, req: BatchItem): Promise<PlannedVideo> {
  if (req.variables && !req.template_id) {
    throw new AppError("invalid_input", "variables: only with a template_id");
  }
  const template = req.template_id ? await deps.templates.get(req.template_id) : null;
  if (req.template_id && !template) {
    throw new AppError("invalid_input", `template_id: unknown template ${req.template_id}`);
  }
  const prompt = template ? renderTemplate(template, req.variables) : req.prompt ?? "";
  // The template's own start image is trusted (it is not in the user's folder); the user's is not.
  const imagePath = req.image_path ?? template?.default_image_path ?? undefined;
  const model = await pickModel(deps, req, template?.model ?? null, imagePath !== undefined);
  checkOptions(model, req, prompt, imagePath);
  const duration = req.duration ?? model.default_duration;
  return {
    model,
    cost: modelCost(model, duration),
    prompt,
    duration,
    aspect_ratio: req.aspect_ratio ?? null,
    // Normalised, so `inputs/<uid>/a.png` and `<uid>/a.png` are one image, checked once.
    image: imagePath
      ? { path: normalizeInputPath(imagePath), trusted: req.image_path === undefined }
      : null,
  };
}

/** The job of a planned video, with its checked image's reference (null: none, or not yet). */
export function buildVideo(plan: PlannedVideo, imageRef: string | null): ResolvedVideo {
  const input = buildFalInput(plan.model, {
    prompt: plan.prompt,
    duration: plan.duration,
    aspect_ratio: plan.aspect_ratio,
    image_url: imageRef,
  });
  return { model: plan.model, input, cost: plan.cost };
}

/** The key under which a planned image is checked once per request. */
export function imageKey(image: { path: string; trusted: boolean }): string {
  return `${image.trusted ? "t" : "u"}:${image.path}`;
}
