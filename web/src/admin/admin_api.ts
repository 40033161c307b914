/**
 * Typed calls to the `admin-queue` function: the statistics for a window, and the stuck-job
 * actions. Errors become the app's `ApiError` (403 `forbidden` for non-admins).
 */
import { type FunctionsInvoker, toApiError } from "../api.ts";
import type { Job } from "../types.ts";
import type { QueueStats } from "./stats_types.ts";

/** The admin API over supabase-js `functions`. */
export function createAdminApi(functions: FunctionsInvoker) {
  async function call<T>(
    name: string,
    options: NonNullable<Parameters<FunctionsInvoker["invoke"]>[1]>,
  ): Promise<T> {
    let result: Awaited<ReturnType<FunctionsInvoker["invoke"]>>;
    try {
      result = await functions.invoke(name, options);
    } catch (e) {
      throw await toApiError(e);
    }
    if (result.error) throw await toApiError(result.error, result.response);
    return result.data as T;
  }
  return {
    /** Statistics over the last `windowSeconds`, with the slot limit. */
    async stats(windowSeconds: number): Promise<QueueStats> {
      const { stats } = await call<{ stats: QueueStats }>(
        `admin-queue?window=${windowSeconds}`,
        { method: "GET" },
      );
      return stats;
    },
    /** Re-dispatch or cancel a job. */
    async act(action: "redispatch" | "cancel", id: string, reason?: string): Promise<Job> {
      const { job } = await call<{ job: Job }>("admin-queue", {
        method: "POST",
        body: { action, id, ...(reason ? { reason } : {}) },
      });
      return job;
    },
  };
}

export type AdminApi = ReturnType<typeof createAdminApi>;
