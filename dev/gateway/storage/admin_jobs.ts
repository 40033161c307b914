/**
 * Storage's admin queue, as far as the stack needs it: work Storage answers for at once but does
 * later (`emptyBucket` answers "queued" and an admin job deletes the objects). Running it after a
 * delay keeps the stack as strict as hosted: code that deletes a bucket right after emptying it
 * fails here too (`ResourceNotEmpty`), instead of passing locally only.
 */

export interface AdminJobs {
  /** Runs `job` once `delayMs` have passed, unless the stack closes first. */
  enqueue(name: string, job: () => Promise<void>): void;
  /** Drops jobs that have not started and waits for the running ones. */
  close(): Promise<void>;
}

/** Creates the queue; failures are logged, as Storage's worker logs a failed job. */
export function createAdminJobs(opts: { delayMs: number; log: (line: string) => void }): AdminJobs {
  const pending = new Set<ReturnType<typeof setTimeout>>();
  const running = new Set<Promise<void>>();
  return {
    enqueue(name, job) {
      const timer = setTimeout(() => {
        pending.delete(timer);
        const run = job()
          .catch((e) =>
            opts.log(`[storage] admin job ${name} failed: ${e instanceof Error ? e.message : e}`)
          )
          .finally(() => running.delete(run));
        running.add(run);
      }, opts.delayMs);
      pending.add(timer);
    },
    async close() {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      await Promise.all([...running]);
    },
  };
}
