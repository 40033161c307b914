/**
 * The model catalog (table `public.models`): which fal endpoint a model id maps to, what it
 * accepts and what it costs. Cached per function instance for a minute; the catalog changes by
 * migration or seed, not per request.
 */
import type { Sql } from "./db.ts";

export interface Model {
  id: string;
  endpoint_id: string;
  kind: "video" | "image" | "audio" | "compose";
  title: string;
  input_schema: JsonSchema;
  cost_base: number;
  cost_per_second: number;
  default_duration: number | null;
  durations: number[] | null;
  aspect_ratios: string[] | null;
  expected_seconds: number;
  timeout_seconds: number;
  accepts_image: boolean;
  enabled: boolean;
}

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  maxLength?: number;
}

export interface ModelCatalog {
  get(id: string): Promise<Model | null>;
  list(): Promise<Model[]>;
  /** The default model for a kind (first enabled by catalog order). */
  defaultFor(kind: Model["kind"]): Promise<Model | null>;
}

/** Credits a job on `model` costs for `duration` seconds (the model's default when omitted). */
export function modelCost(model: Model, duration?: number | null): number {
  const seconds = duration ?? model.default_duration ?? 0;
  return model.cost_base + model.cost_per_second * seconds;
}

/** The catalog read from Postgres, cached for `ttlMs`. */
export function createModelCatalog(sql: Sql, ttlMs = 60_000, nowMs = Date.now): ModelCatalog {
  let cache: { at: number; models: Promise<Model[]> } | undefined;
  const list = () => {
    if (!cache || nowMs() - cache.at > ttlMs) {
      const models = sql<Model[]>`
        select * from public.models where enabled order by sort_order, id`.then((r) => [...r]);
      cache = { at: nowMs(), models };
      models.catch(() => (cache = undefined));
    }
    return cache.models;
  };
  return {
    list,
    async get(id) {
      return (await list()).find((m) => m.id === id) ?? null;
    },
    async defaultFor(kind) {
      return (await list()).find((m) => m.kind === kind) ?? null;
    },
  };
}
