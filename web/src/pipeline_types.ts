/**
 * Shapes of the multi-job features (docs/architecture.md, "Batches and stories"): the template
 * catalog of `GET generate-video?templates`, a batch or story parent's `pipeline` summary and a
 * child's `item`, as the API and Realtime events carry them on top of the plain `Job`.
 */
import type { Job } from "./types.ts";

/** One variable of a template, with its limits. */
export interface TemplateVariable {
  name: string;
  label: string;
  description: string;
  required: boolean;
  max_length: number;
  default: string | null;
  example: string | null;
}

/** One template of the catalog. */
export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
  model: string;
  variables: TemplateVariable[];
  has_default_image: boolean;
  accepts_image: boolean;
  needs_image: boolean;
  credits: number;
}

/** The answer of `GET generate-video?templates`. */
export interface Catalog {
  templates: TemplateInfo[];
  batch: { max_items: number };
  story: {
    max_scenes: number;
    credits_per_scene: number;
    credits_base: number;
    voices: string[];
  } | null;
}

/** Counts of a parent's current children (all kinds, or one kind). */
export interface ChildCounts {
  total: number;
  completed: number;
  failed: number;
  canceled: number;
  active: number;
}

/** A parent's summary; `stage` and `kinds` only for stories. */
export interface PipelineSummary extends ChildCounts {
  stage?: "images" | "narration" | "compose" | "done" | "failing" | "canceling" | string;
  kinds?: Record<string, ChildCounts>;
}

/** A job with the pipeline fields: `pipeline` on parents, `item` on children. */
export type PipelineJob = Job & {
  item?: number | null;
  pipeline?: PipelineSummary | null;
};

/** One scene of a story request. */
export interface SceneInput {
  text: string;
  image_prompt?: string;
}

/** What `generate-video` answers for a batch, a story or a parent's retry. */
export interface ParentAnswer {
  parent: PipelineJob;
  jobs: PipelineJob[];
}
