/**
 * Pure views of batch and story parents over the jobs the store holds: which jobs are parents,
 * their children grouped by scene/item (a retried child replaces the one it retries), the
 * parent's displayed progress and stage, and API error messages mapped onto form fields
 * (`scenes.0.text: …` → field `scenes.0.text`).
 */
import type { PipelineJob, PipelineSummary } from "../pipeline_types.ts";
import type { Job } from "../types.ts";

/** True for a batch or story parent. */
export function isParent(job: Pick<Job, "kind">): boolean {
  return job.kind === "batch" || job.kind === "story";
}

/** The kinds of a scene in the order they run. */
const KIND_ORDER = ["image", "video", "audio", "compose"];

/** One scene (story) or item (batch) and its current job of each kind. */
export interface ItemRow {
  item: number;
  /** Current job per kind (`image`, `audio`, `video`). */
  jobs: Record<string, PipelineJob>;
}

/** A parent's children, grouped. */
export interface ParentChildren {
  items: ItemRow[];
  /** The story's compose job (no item), if any. */
  compose: PipelineJob | null;
}

function newer(a: PipelineJob, b: PipelineJob): PipelineJob {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return ta > tb ? a : b;
  return a.id > b.id ? a : b;
}

/**
 * Groups the held children of `parentId` by item and kind. When a child was retried, the newest
 * job of that item and kind is the current one (the failed one stays in the library).
 */
export function childrenOf(jobs: readonly PipelineJob[], parentId: string): ParentChildren {
  const rows = new Map<number, ItemRow>();
  let compose: PipelineJob | null = null;
  for (const job of jobs) {
    if (job.parent_id !== parentId) continue;
    if (job.item === null || job.item === undefined) {
      compose = compose ? newer(compose, job) : job;
      continue;
    }
    const row = rows.get(job.item) ?? { item: job.item, jobs: {} };
    const held = row.jobs[job.kind];
    row.jobs[job.kind] = held ? newer(held, job) : job;
    rows.set(job.item, row);
  }
  return { items: [...rows.values()].sort((a, b) => a.item - b.item), compose };
}

/** The jobs of a row in running order. */
export function rowJobs(row: ItemRow): PipelineJob[] {
  return Object.values(row.jobs).sort(
    (a, b) => rank(a.kind) - rank(b.kind),
  );
}

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

/**
 * The parent's progress (0–1): the server's weighted figure (images, narration, compose) when it
 * sent one, else the share of finished children from the summary.
 */
export function parentFraction(parent: PipelineJob): number {
  if (parent.status === "completed") return 1;
  if (typeof parent.progress === "number") return clamp(parent.progress / 100);
  const p = parent.pipeline;
  if (!p || p.total === 0) return 0;
  return clamp(p.completed / p.total);
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}

const STAGES: Record<string, string> = {
  images: "Drawing scenes",
  narration: "Recording narration",
  compose: "Putting the video together",
  done: "Done",
  failing: "A part failed; stopping",
  canceling: "Canceling",
  failed: "Failed",
  canceled: "Canceled",
};

/** A human label for the parent's stage (batches have none: their counts say it). */
export function stageLabel(parent: PipelineJob): string {
  const p: PipelineSummary | null | undefined = parent.pipeline;
  if (p?.stage) return STAGES[p.stage] ?? p.stage;
  if (!p) return parent.status;
  return `${p.completed} of ${p.total} done`;
}

/** The field a validation message names, and the rest of it. */
export interface FieldError {
  field: string | null;
  message: string;
}

/**
 * Splits an API validation message into the field it names and the text: `items.2.prompt: too
 * long` → `{field: "items.2.prompt", message: "too long"}`. Messages without a field prefix stay
 * whole (field null).
 */
export function fieldErrorOf(message: string): FieldError {
  const m = /^([A-Za-z_][\w]*(?:\.[\w]+)*):\s*(.+)$/s.exec(message);
  if (!m) return { field: null, message };
  return { field: m[1]!, message: m[2]! };
}

/** Moves element `from` to index `to` (a scene list's "move up/down"). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) {
    return [...list];
  }
  const next = [...list];
  const [moved] = next.splice(from, 1);
  next.splice(to, 0, moved!);
  return next;
}
