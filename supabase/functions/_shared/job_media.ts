/**
 * Which Storage objects a deleted job leaves behind unused (SQL `vidqueue.job_media_to_remove`,
 * 20251207200200_shared_media.sql): a retried batch's children, a story and its compose job, a
 * compose job and its scenes, the items of one request and their start-image snapshot all share
 * objects, so deleting one job removes only what no live job of the user still refers to.
 */
import type { Sql } from "./db.ts";

/** An object to remove through the Storage API. */
export interface StorageObject {
  bucket: string;
  name: string;
}

/** The media queries over a postgres.js pool connected as `postgres`. */
export function createJobMedia(sql: Sql) {
  return {
    /** After `jobs.remove(jobId, userId)`: the objects nothing refers to any more. */
    async unusedAfterDelete(jobId: string, userId: string): Promise<StorageObject[]> {
      const rows = await sql<{ bucket_id: string; name: string }[]>`
        select bucket_id, name from vidqueue.job_media_to_remove(${jobId}::uuid, ${userId}::uuid)`;
      return rows.map((r) => ({ bucket: r.bucket_id, name: r.name }));
    },
  };
}

export type JobMedia = ReturnType<typeof createJobMedia>;
