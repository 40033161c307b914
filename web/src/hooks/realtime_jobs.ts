/**
 * The one Realtime subscription per user: the private Broadcast channel `jobs:<uid>` on which the
 * database announces every job transition (`job_updated` with `{job}`). Kept behind a tiny
 * interface so the store can be unit-tested with a fake source.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import type { Job } from "../types.ts";

/** Channel states as realtime-js reports them to `subscribe`. */
export type ChannelStatus = "SUBSCRIBED" | "TIMED_OUT" | "CLOSED" | "CHANNEL_ERROR";

export interface JobEventHandlers {
  /** A job changed (the event's `{job}`). */
  onJob(job: Job): void;
  /** The channel (re)joined, failed or closed. realtime-js rejoins by itself after failures. */
  onStatus(status: ChannelStatus, error?: Error): void;
}

/** Where job events come from. */
export interface JobEventSource {
  /** Starts listening for `userId`'s jobs; the returned function stops. */
  subscribe(userId: string, handlers: JobEventHandlers): () => void;
}

function isJob(value: unknown): value is Job {
  const job = value as Partial<Job> | null;
  return !!job && typeof job.id === "string" && typeof job.status === "string" &&
    typeof job.version === "number";
}

/** The real source: supabase-js Realtime. */
export function createRealtimeJobSource(supabase: SupabaseClient): JobEventSource {
  return {
    subscribe(userId, handlers) {
      let stopped = false;
      let channel: ReturnType<SupabaseClient["channel"]> | null = null;
      // Private channels authorise the join with the user's JWT: hand it to Realtime first.
      supabase.realtime.setAuth().then(() => {
        if (stopped) return;
        channel = supabase.channel(`jobs:${userId}`, { config: { private: true } });
        channel.on("broadcast", { event: "job_updated" }, (message) => {
          const job = (message.payload as { job?: unknown } | undefined)?.job;
          if (isJob(job)) handlers.onJob(job);
        });
        channel.subscribe((status, error) => {
          if (!stopped) handlers.onStatus(status as ChannelStatus, error);
        });
      }).catch((e: unknown) => {
        if (!stopped) handlers.onStatus("CHANNEL_ERROR", e instanceof Error ? e : undefined);
      });
      return () => {
        stopped = true;
        if (channel) void supabase.removeChannel(channel);
      };
    },
  };
}
