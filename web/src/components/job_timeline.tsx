/**
 * A job's timeline (its job_events, oldest first) from the `job-events` function: what happened
 * when, with the error code and message where there was one (admins also see fal request ids
 * and slots). Read when opened and again when the job's version changes while open (the
 * version arrives over Realtime), never on a timer.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import {
  createContext,
  createElement,
  type ReactNode,
  useContext,
  useEffect,
  useState,
} from "react";
import { type FunctionsInvoker, toApiError } from "../api.ts";

export interface TimelineEvent {
  id: number;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  at: string;
  detail: Record<string, unknown>;
}

/** Loads one job's events. */
export type LoadTimeline = (jobId: string) => Promise<TimelineEvent[]>;

/** The real loader over supabase-js `functions`. */
export function createTimelineLoader(functions: FunctionsInvoker): LoadTimeline {
  return async (jobId) => {
    let result: Awaited<ReturnType<FunctionsInvoker["invoke"]>>;
    try {
      result = await functions.invoke(`job-events?id=${encodeURIComponent(jobId)}`, {
        method: "GET",
      });
    } catch (e) {
      throw await toApiError(e);
    }
    if (result.error) throw await toApiError(result.error, result.response);
    return (result.data as { events: TimelineEvent[] }).events ?? [];
  };
}

const TimelineContext = createContext<LoadTimeline | null>(null);

/** Makes job timelines loadable below it. */
export function TimelineProvider(props: { supabase: SupabaseClient; children?: ReactNode }) {
  const [load] = useState(() => createTimelineLoader(props.supabase.functions));
  return createElement(TimelineContext.Provider, { value: load }, props.children);
}

const LABELS: Record<string, string> = {
  created: "Created",
  claimed: "Picked from the queue",
  submitted: "Sent to the provider",
  started: "Started",
  finalizing: "Result received, saving",
  completed: "Completed",
  failed: "Failed",
  canceled: "Canceled",
  cancel_requested: "Cancel requested",
  dispatch_failed: "Provider unavailable, will retry",
  requeued: "Back in the queue",
  requeued_by_admin: "Re-dispatched by an admin",
  canceled_by_admin: "Canceled by an admin",
  deleted: "Deleted",
  released: "Inputs ready",
};

function describe(e: TimelineEvent): string {
  return LABELS[e.kind] ?? e.kind.replaceAll("_", " ");
}

function details(e: TimelineEvent): string {
  const d = e.detail ?? {};
  const parts: string[] = [];
  if (typeof d.code === "string") parts.push(d.code);
  if (typeof d.message === "string") parts.push(d.message);
  if (typeof d.attempt === "number") parts.push(`attempt ${d.attempt}`);
  if (typeof d.reason === "string") parts.push(d.reason);
  if (typeof d.request_id === "string") parts.push(`fal ${d.request_id}`);
  if (typeof d.slot === "number") parts.push(`slot ${d.slot}`);
  return parts.join(" · ");
}

function time(iso: string, first: string): string {
  const ms = Date.parse(iso) - Date.parse(first);
  const clock = new Date(iso).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  return ms > 0 ? `${clock} (+${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s)` : clock;
}

/** The timeline as an ordered list. `version` changing reloads it while shown. */
export function JobTimeline(props: { jobId: string; version: number }) {
  const load = useContext(TimelineContext);
  const [events, setEvents] = useState<TimelineEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!load) return;
    let live = true;
    load(props.jobId).then(
      (list) => live && (setEvents(list), setError(null)),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [load, props.jobId, props.version]);
  if (!load) return null;
  if (error) return <p className="inline-error">Could not load the timeline: {error}</p>;
  if (!events) return <p className="muted">Loading the timeline…</p>;
  const first = events[0]?.at ?? "";
  return (
    <ol className="timeline" data-testid="job-timeline">
      {events.map((e) => (
        <li key={e.id} className={`timeline-item timeline-${e.kind}`}>
          <span className="timeline-what">{describe(e)}</span>
          <time className="timeline-when" dateTime={e.at}>{time(e.at, first)}</time>
          {details(e) && <span className="timeline-detail">{details(e)}</span>}
        </li>
      ))}
    </ol>
  );
}

/** A collapsed "Timeline" section for a job card; loads only once opened. */
export function JobTimelineDetails(props: { jobId: string; version: number }) {
  const [open, setOpen] = useState(false);
  return (
    <details
      className="job-details"
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>Timeline</summary>
      {open && <JobTimeline jobId={props.jobId} version={props.version} />}
    </details>
  );
}
