/** Request shapes of `video-jobs`: actions and list cursors. */
import { z } from "zod";

export const ActionRequest = z.object({
  action: z.enum(["cancel", "retry", "delete"]),
  id: z.uuid(),
}).strict();

/** An opaque cursor for the next page: the last job's created_at and id. */
export function encodeCursor(job: { created_at?: unknown; id: string }): string {
  return btoa(JSON.stringify([job.created_at, job.id]));
}

/** Decodes a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const [createdAt, id] = JSON.parse(atob(cursor));
    if (typeof createdAt !== "string" || typeof id !== "string") return undefined;
    if (Number.isNaN(Date.parse(createdAt))) return undefined;
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}
