/**
 * Batches and stories: parents whose children are ordinary jobs. Postgres does the work
 * (20250603000*_*.sql): `vidqueue.parent_create` reserves every child's credits or none,
 * `vidqueue.parent_sync` releases a story's narration when its image is done and the compose job
 * when every scene is, and derives the parent's status and progress from its children;
 * `vidqueue.parent_retry` redoes what failed and reuses what completed. This file holds the typed
 * calls and the building of a story's children from its scenes.
 */
import type { Sql } from "./db.ts";
import { AppError } from "./errors.ts";
import { mapDbError, type PublicJob } from "./jobs.ts";
import { type Model, modelCost } from "./models.ts";

export const BATCH_MAX_ITEMS = 20;
export const STORY_MAX_SCENES = 20;

/** One child to create: a new job, or a completed job of the user's to take over. */
export interface ChildSpec {
  kind: "video" | "image" | "audio" | "compose";
  model: string;
  input: Record<string, unknown>;
  cost: number;
  item: number | null;
}

export interface CreateParentArgs {
  userId: string;
  kind: "batch" | "story";
  input: Record<string, unknown>;
  children: ChildSpec[];
  priority: number;
  idempotencyKey: string | null;
  requestHash: string;
  limits: { max_queued: number; submits_per_min: number };
}

/** A parent and its children, children in item order (a story's compose job last). */
export interface ParentWithChildren {
  parent: PublicJob;
  jobs: PublicJob[];
  replayed: boolean;
}

/** The pipeline store over a postgres.js pool connected as `postgres`. */
export function createPipelines(sql: Sql) {
  async function children(parentId: string): Promise<PublicJob[]> {
    const rows = await sql<{ j: PublicJob }[]>`
      select vidqueue.job_public(c) as j from public.jobs c
      where c.parent_id = ${parentId}::uuid
      order by c.item nulls last,
        case c.kind when 'image' then 0 when 'audio' then 1 else 2 end, c.created_at, c.id`;
    return rows.map((r) => r.j);
  }
  async function withChildren(
    query: Promise<readonly { parent: PublicJob; replayed: boolean }[]>,
  ): Promise<ParentWithChildren> {
    let row: { parent: PublicJob; replayed: boolean } | undefined;
    try {
      row = (await query)[0];
    } catch (e) {
      mapDbError(e);
    }
    if (!row?.parent) throw new Error("parent creation returned nothing");
    return { parent: row.parent, jobs: await children(row.parent.id), replayed: row.replayed };
  }
  return {
    /** Creates a batch or story and all its children, reserving all their credits or none. */
    create(a: CreateParentArgs): Promise<ParentWithChildren> {
      return withChildren(sql<{ parent: PublicJob; replayed: boolean }[]>`
        select vidqueue.job_public(r.job) as parent, r.replayed
        from vidqueue.parent_create(
          ${a.userId}::uuid, ${a.kind}, ${sql.json(a.input as never)}::jsonb,
          ${sql.json(a.children as never)}::jsonb, ${a.priority}::int, ${a.idempotencyKey},
          ${a.requestHash}, ${sql.json(a.limits)}::jsonb
        ) r`);
    },
    /** A new parent redoing a failed or canceled one's unfinished children (finished ones reused). */
    retry(
      a: {
        userId: string;
        parentId: string;
        priority: number;
        limits: { max_queued: number; submits_per_min: number };
      },
    ): Promise<ParentWithChildren> {
      return withChildren(sql<{ parent: PublicJob; replayed: boolean }[]>`
        select vidqueue.job_public(r.job) as parent, r.replayed
        from vidqueue.parent_retry(${a.userId}::uuid, ${a.parentId}::uuid, ${a.priority}::int,
          ${sql.json(a.limits)}::jsonb) r`);
    },
    children,
  };
}

export type Pipelines = ReturnType<typeof createPipelines>;

export interface Scene {
  text: string;
  image_prompt?: string;
}

/** The models a story runs on. */
export interface StoryModels {
  image: Model;
  audio: Model;
  compose: Model;
}

function fits(model: Model, field: string, value: string, name: string): void {
  const max = model.input_schema.properties?.[field]?.maxLength;
  if (max && value.length > max) {
    throw new AppError("invalid_input", `${name}: ${model.id} accepts at most ${max} characters`);
  }
}

/**
 * A story's children: per scene an image (the image prompt, else the narration text) and a
 * narration, plus the compose job whose input Postgres fills in once every scene is done.
 */
export function storyChildren(
  models: StoryModels,
  scenes: Scene[],
  opts: { voice?: string } = {},
): ChildSpec[] {
  const imageProps = models.image.input_schema.properties ?? {};
  const audioProps = models.audio.input_schema.properties ?? {};
  const textField = audioProps.text && !audioProps.prompt ? "text" : "prompt";
  if (opts.voice !== undefined) {
    const voices = audioProps.voice?.enum;
    if (!audioProps.voice || (voices && !voices.includes(opts.voice))) {
      throw new AppError(
        "invalid_input",
        voices ? `voice: ${models.audio.id} offers ${voices.join(", ")}` : "voice: not offered",
      );
    }
  }
  const out: ChildSpec[] = [];
  scenes.forEach((scene, i) => {
    const item = i + 1;
    const imagePrompt = scene.image_prompt ?? scene.text;
    fits(models.image, "prompt", imagePrompt, `scenes.${i}.image_prompt`);
    fits(models.audio, textField, scene.text, `scenes.${i}.text`);
    out.push({
      kind: "image",
      model: models.image.id,
      input: {
        prompt: imagePrompt,
        // Story videos are landscape; models without the option keep their default.
        ...(imageProps.image_size ? { image_size: "landscape_16_9" } : {}),
      },
      cost: modelCost(models.image),
      item,
    });
    out.push({
      kind: "audio",
      model: models.audio.id,
      input: { [textField]: scene.text, ...(opts.voice ? { voice: opts.voice } : {}) },
      cost: modelCost(models.audio),
      item,
    });
  });
  out.push({
    kind: "compose",
    model: models.compose.id,
    input: {},
    cost: modelCost(models.compose),
    item: null,
  });
  return out;
}
