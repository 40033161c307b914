/**
 * The admin dashboard's data: a snapshot from `admin-queue` on mount, when the window changes
 * and whenever the `admin:stats` channel reports SUBSCRIBED (first join and every reconnect;
 * joined only once the first snapshot showed the caller is an admin), then every Realtime
 * message (at most one a second, published by the database). The database publishes on the
 * leading edge of a burst of changes; to also show the burst's last changes, the hook fetches
 * once when no message followed the previous one within SETTLE_MS — one request per burst,
 * never a timer loop while things change or while nothing does.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api.ts";
import { createAdminApi } from "./admin_api.ts";
import { addSample, mergeLive, type Sample, sampleOf } from "./stats_history.ts";
import { isStatsMessage, type QueueStats, type StatsMessage } from "./stats_types.ts";

/** How long after the last message the hook fetches the settled figures. */
export const SETTLE_MS = 1500;

export type AdminConnection = "connecting" | "live" | "reconnecting";

/** Live queue statistics for `windowSeconds`, their recent history, and the admin actions. */
export function useAdminStats(supabase: SupabaseClient, windowSeconds: number) {
  const api = useMemo(() => createAdminApi(supabase.functions), [supabase]);
  const [stats, setStats] = useState<QueueStats | null>(null);
  const [history, setHistory] = useState<Sample[]>([]);
  const [connection, setConnection] = useState<AdminConnection>("connecting");
  const [error, setError] = useState<ApiError | null>(null);
  const windowRef = useRef(windowSeconds);
  const limitRef = useRef<number | null>(null);

  const statsRef = useRef<QueueStats | null>(null);
  const show = useCallback((next: StatsMessage) => {
    const merged = mergeLive(statsRef.current, next);
    if (!merged) return; // live-only, and no snapshot yet: the snapshot is on its way
    statsRef.current = merged;
    setStats(merged);
    setHistory((h) => addSample(h, sampleOf(merged, limitRef.current)));
  }, []);

  /** Whether the caller may see the stats: decided by the first answer (403 = no). */
  const [allowed, setAllowed] = useState<boolean | null>(null);

  const refresh = useCallback(async () => {
    const asked = windowRef.current;
    try {
      const fresh = await api.stats(asked);
      setAllowed(true);
      if (asked !== windowRef.current) return; // the window changed meanwhile
      limitRef.current = fresh.slots.limit ?? limitRef.current;
      statsRef.current = fresh;
      setStats(fresh);
      setHistory((h) => addSample(h, sampleOf(fresh, limitRef.current)));
      setError(null);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError("network", String(e), 0);
      if (err.code === "forbidden" || err.code === "unauthorized") setAllowed(false);
      setError(err);
    }
  }, [api]);

  // The first snapshot (which also tells whether the caller is an admin), and one per window.
  useEffect(() => {
    windowRef.current = windowSeconds;
    void refresh();
  }, [windowSeconds, refresh]);

  useEffect(() => {
    // Non-admins are refused by the function and by the channel's RLS: do not knock on both.
    if (!allowed) return;
    let stopped = false;
    let settle: ReturnType<typeof setTimeout> | undefined;
    let channel: ReturnType<SupabaseClient["channel"]> | null = null;
    // Private channel: Realtime authorises the join with the admin's JWT.
    supabase.realtime.setAuth().then(() => {
      if (stopped) return;
      channel = supabase.channel("admin:stats", { config: { private: true } });
      channel.on("broadcast", { event: "stats" }, (message) => {
        const live = (message.payload as { stats?: unknown } | undefined)?.stats;
        if (!isStatsMessage(live)) return;
        show(live);
        clearTimeout(settle);
        settle = setTimeout(() => void refresh(), SETTLE_MS);
      });
      channel.subscribe((status) => {
        if (stopped) return;
        if (status === "SUBSCRIBED") {
          setConnection("live");
          void refresh();
        } else setConnection("reconnecting");
      });
    }).catch(() => !stopped && setConnection("reconnecting"));
    return () => {
      stopped = true;
      clearTimeout(settle);
      if (channel) void supabase.removeChannel(channel);
    };
  }, [supabase, refresh, show, allowed]);

  return {
    stats,
    history,
    connection,
    error,
    refresh,
    /** Re-dispatch or cancel; the change arrives over Realtime like any other. */
    act: api.act,
  };
}
