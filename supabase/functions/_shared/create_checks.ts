/**
 * Limits before work: a dry run of creating a job or a batch (SQL `vidqueue.job_create_check`,
 * `vidqueue.parent_create_check`, 20251207200100_create_checks.sql) with exactly the rules of the
 * real create: rate limits, queued-job limits, credits and idempotency. generate-video asks it
 * before it spends Storage requests on start images, so a refused request costs one query.
 */
import type { Sql } from "./db.ts";
import { type CreateJobArgs, mapDbError } from "./jobs.ts";
import type { CreateParentArgs } from "./pipelines.ts";

/** Resolve to whether the create would be an idempotent replay; throw the create's AppError. */
export interface CreateChecks {
  job(a: CreateJobArgs): Promise<boolean>;
  parent(a: CreateParentArgs): Promise<boolean>;
}

/** The checks over a postgres.js pool connected as `postgres`. */
export function createCreateChecks(sql: Sql): CreateChecks {
  const first = async (query: Promise<readonly { replayed: boolean }[]>) => {
    try {
      return (await query)[0]?.replayed ?? false;
    } catch (e) {
      mapDbError(e);
    }
  };
  return {
    job: (a) =>
      first(sql<{ replayed: boolean }[]>`
        select vidqueue.job_create_check(
          ${a.userId}::uuid, ${a.kind}, ${a.model}, ${sql.json(a.input as never)}::jsonb,
          ${a.cost}::int, ${a.priority}::int, ${a.idempotencyKey}, ${a.requestHash},
          ${sql.json(a.limits)}::jsonb, ${a.parentId ?? null}::uuid, ${a.retryOf ?? null}::uuid
        ) as replayed`),
    parent: (a) =>
      first(sql<{ replayed: boolean }[]>`
        select vidqueue.parent_create_check(
          ${a.userId}::uuid, ${a.kind}, ${sql.json(a.input as never)}::jsonb,
          ${sql.json(a.children as never)}::jsonb, ${a.priority}::int, ${a.idempotencyKey},
          ${a.requestHash}, ${sql.json(a.limits)}::jsonb
        ) as replayed`),
  };
}
