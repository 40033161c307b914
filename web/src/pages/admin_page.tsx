/**
 * The admin dashboard (users with app_metadata.role = "admin"; the function and SQL refuse
 * everyone else): queue depth by stage and model, slots in use vs the limit, p50/p95 time in
 * queue and to complete per model over a chosen window, failure rate and top error codes, credit
 * movements, and stuck jobs with Re-dispatch / Cancel. Live over the `admin:stats` Realtime topic.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import { useMemo, useState } from "react";
import { ApiError } from "../api.ts";
import { depthSeries, latencySeries } from "../admin/stats_history.ts";
import { type ModelStats, STAGES, type StuckJob } from "../admin/stats_types.ts";
import { useAdminStats } from "../admin/use_admin_stats.ts";
import { JobTimeline } from "../components/job_timeline.tsx";
import { useToast } from "../components/toasts.tsx";
import { UplotChart } from "../components/uplot_chart.tsx";

const WINDOWS = [
  { seconds: 900, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "24 hours" },
  { seconds: 604800, label: "7 days" },
];
const PALETTE = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#2563eb", "#65a30d"];
const STAGE_LABELS: Record<string, string> = {
  queued: "Queued",
  retrying: "Retry later",
  waiting: "Waiting for inputs",
  dispatching: "Dispatching",
  submitted: "At fal (queued)",
  in_progress: "At fal (running)",
  finalizing: "Saving",
};
const REASONS: Record<string, string> = {
  dispatch_stalled: "Dispatch never reached fal",
  overdue_at_fal: "Overdue at fal",
  copy_stalled: "Saving the result stalled",
};

function seconds(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms / 1000)} s`;
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}

function Tile(props: { label: string; value: string; note?: string; testId?: string }) {
  return (
    <div className="tile" data-testid={props.testId}>
      <span className="tile-label">{props.label}</span>
      <span className="tile-value">{props.value}</span>
      {props.note && <span className="tile-note">{props.note}</span>}
    </div>
  );
}

function ModelTable(props: { models: ModelStats[] }) {
  if (props.models.length === 0) {
    return <p className="muted">No job finished in this window.</p>;
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="model-table">
        <caption className="sr-only">Per model, jobs finished in the window</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Done</th>
            <th scope="col">Failed</th>
            <th scope="col">Failure rate</th>
            <th scope="col">Queue p50</th>
            <th scope="col">Queue p95</th>
            <th scope="col">Complete p50</th>
            <th scope="col">Complete p95</th>
          </tr>
        </thead>
        <tbody>
          {props.models.map((m) => (
            <tr key={m.model} data-model={m.model} data-completed={m.completed}>
              <th scope="row">{m.model}</th>
              <td>{m.completed}</td>
              <td>{m.failed}</td>
              <td>{percent(m.failure_rate)}</td>
              <td>{seconds(m.queue_p50_ms)}</td>
              <td>{seconds(m.queue_p95_ms)}</td>
              <td>{seconds(m.total_p50_ms)}</td>
              <td>{seconds(m.total_p95_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StuckRow(props: {
  job: StuckJob;
  act: (action: "redispatch" | "cancel", id: string, reason?: string) => Promise<unknown>;
}) {
  const { job } = props;
  const toast = useToast();
  const [busy, setBusy] = useState<null | "redispatch" | "cancel">(null);
  const [open, setOpen] = useState(false);
  const since = Math.max(0, Math.round((Date.now() - Date.parse(job.since)) / 1000));
  async function run(action: "redispatch" | "cancel") {
    setBusy(action);
    try {
      await props.act(
        action,
        job.id,
        action === "cancel" ? "canceled from the dashboard" : undefined,
      );
      toast({
        kind: "success",
        title: action === "redispatch" ? "Job re-dispatched" : "Job canceled",
        body: job.id,
      });
    } catch (e) {
      toast({
        kind: "error",
        title: `Could not ${action === "redispatch" ? "re-dispatch" : "cancel"} the job`,
        body: e instanceof ApiError ? e.message : String(e),
      });
    } finally {
      setBusy(null);
    }
  }
  return (
    <>
      <tr data-testid="stuck-row" data-job-id={job.id}>
        <th scope="row">
          <code title={job.id}>{job.id.slice(0, 8)}</code>
        </th>
        <td>{job.model ?? job.kind}</td>
        <td>{REASONS[job.reason] ?? job.reason}</td>
        <td>{since} s</td>
        <td>{job.attempts}</td>
        <td className="row-actions">
          <button
            type="button"
            className="button button-secondary"
            disabled={busy !== null}
            onClick={() => void run("redispatch")}
            aria-label={`Re-dispatch job ${job.id.slice(0, 8)}`}
          >
            {busy === "redispatch" ? "Re-dispatching…" : "Re-dispatch"}
          </button>
          <button
            type="button"
            className="button button-ghost"
            disabled={busy !== null}
            onClick={() => void run("cancel")}
            aria-label={`Cancel job ${job.id.slice(0, 8)}`}
          >
            {busy === "cancel" ? "Canceling…" : "Cancel"}
          </button>
          <button
            type="button"
            className="link-button"
            aria-expanded={open}
            onClick={() => setOpen((o) => !o)}
          >
            Timeline
          </button>
        </td>
      </tr>
      {open && (
        <tr className="timeline-row">
          <td colSpan={6}>
            <JobTimeline jobId={job.id} version={0} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The dashboard page. */
export function AdminPage(props: {
  supabase: SupabaseClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [windowSeconds, setWindowSeconds] = useState(900);
  const { stats, history, connection, error, act } = useAdminStats(props.supabase, windowSeconds);
  const depth = useMemo(() => depthSeries(history), [history]);
  const latency = useMemo(() => latencySeries(history), [history]);
  const windowLabel = WINDOWS.find((w) => w.seconds === windowSeconds)?.label ?? "";
  const limit = stats?.slots.limit ?? stats?.slots.total ?? 0;
  const queued = stats ? stats.totals.queued + stats.totals.retrying : 0;

  return (
    <section className="page admin" aria-labelledby="admin-title">
      <div className="section-head">
        <h1 id="admin-title" tabIndex={-1} ref={props.headingRef}>Queue</h1>
        <div className="admin-controls">
          <label className="inline-field">
            <span>Window</span>
            <select
              value={windowSeconds}
              onChange={(e) => setWindowSeconds(Number(e.currentTarget.value))}
              data-testid="window"
            >
              {WINDOWS.map((w) => <option key={w.seconds} value={w.seconds}>{w.label}</option>)}
            </select>
          </label>
          <span
            className={`live ${connection === "live" ? "live-on" : "live-off"}`}
            data-testid="admin-connection"
          >
            <span className="dot" aria-hidden="true" />
            {connection === "live"
              ? "Live"
              : connection === "connecting"
              ? "Connecting…"
              : "Reconnecting…"}
          </span>
        </div>
      </div>
      {error && (
        <p className="inline-error" role="alert" data-testid="admin-error">
          {error.code === "forbidden"
            ? "This page is for admins. Ask an admin to run `deno task admin <your email>`."
            : `Could not load the statistics (${error.message}).`}
        </p>
      )}
      {!stats && !error && <p className="muted">Loading the queue…</p>}
      {stats && (
        <>
          <div className="tiles">
            <Tile
              label="Queued"
              value={String(queued)}
              testId="tile-queued"
              note={stats.totals.waiting ? `${stats.totals.waiting} waiting for inputs` : undefined}
            />
            <Tile
              label="In flight"
              value={`${stats.slots.in_use} / ${limit}`}
              testId="tile-inflight"
              note="slots in use / limit"
            />
            <Tile
              label="Failure rate"
              value={percent(stats.failures.rate)}
              testId="tile-failures"
              note={`${stats.failures.failed} of ${
                stats.failures.completed + stats.failures.failed
              } in ${windowLabel}`}
            />
            <Tile
              label="Credits held"
              value={String(stats.credits.reserved_now)}
              testId="tile-credits"
              note={`${stats.credits.captured} captured · ${stats.credits.released} released`}
            />
            <Tile label="Stuck" value={String(stats.stuck.count)} testId="tile-stuck" />
          </div>

          <div className="charts">
            <UplotChart
              title="Queue and slots"
              testId="chart-depth"
              yLabel="jobs"
              summary={`Now ${queued} queued and ${stats.slots.in_use} of ${limit} slots in use.`}
              series={[
                { label: "Queued", color: PALETTE[0]!, fill: true },
                { label: "In flight", color: PALETTE[1]! },
                { label: "Slot limit", color: "#8a93a3", dash: [6, 4] },
              ]}
              data={depth}
            />
            <UplotChart
              title="Time to complete, p95 (15-minute window)"
              testId="chart-latency"
              yLabel="seconds"
              summary={stats.models.length
                ? stats.models.map((m) => `${m.model}: ${seconds(m.total_p95_ms)}`).join("; ")
                : "No job finished yet."}
              series={latency.models.map((m, i) => ({
                label: m,
                color: PALETTE[i % PALETTE.length]!,
              }))}
              data={latency.data}
            />
          </div>

          <div className="admin-grid">
            <section className="panel" aria-labelledby="depth-title">
              <h2 id="depth-title">Live jobs by stage</h2>
              <div className="table-wrap">
                <table className="table" data-testid="depth-table">
                  <thead>
                    <tr>
                      <th scope="col">Stage</th>
                      <th scope="col">Model</th>
                      <th scope="col">Jobs</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stats.depth.length === 0 && (
                      <tr>
                        <td colSpan={3} className="muted">The queue is empty.</td>
                      </tr>
                    )}
                    {[...stats.depth]
                      .sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage))
                      .map((d) => (
                        <tr key={`${d.stage}-${d.model}`}>
                          <td>{STAGE_LABELS[d.stage] ?? d.stage}</td>
                          <td>{d.model ?? "—"}</td>
                          <td>{d.count}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </div>
            </section>
            <section className="panel" aria-labelledby="errors-title">
              <h2 id="errors-title">Top errors · {windowLabel}</h2>
              {stats.failures.top_errors.length === 0
                ? <p className="muted">No failures.</p>
                : (
                  <ul className="error-list" data-testid="top-errors">
                    {stats.failures.top_errors.map((e) => (
                      <li key={e.code}>
                        <code>{e.code}</code> <span>{e.count}</span>
                      </li>
                    ))}
                  </ul>
                )}
              <h2>Credits · {windowLabel}</h2>
              <p className="muted">
                {stats.credits.reserved} reserved · {stats.credits.captured} captured ·{" "}
                {stats.credits.released} released
              </p>
            </section>
          </div>

          <section className="panel" aria-labelledby="models-title">
            <h2 id="models-title">Per model · {windowLabel}</h2>
            <ModelTable models={stats.models} />
          </section>

          <section className="panel" aria-labelledby="stuck-title">
            <h2 id="stuck-title">Stuck jobs</h2>
            {stats.stuck.jobs.length === 0
              ? <p className="muted" data-testid="no-stuck">Nothing is stuck.</p>
              : (
                <div className="table-wrap">
                  <table className="table" data-testid="stuck-table">
                    <thead>
                      <tr>
                        <th scope="col">Job</th>
                        <th scope="col">Model</th>
                        <th scope="col">Why</th>
                        <th scope="col">For</th>
                        <th scope="col">Attempts</th>
                        <th scope="col">Actions</th>
                      </tr>
                    </thead>
                    <tbody>
                      {stats.stuck.jobs.map((j) => <StuckRow key={j.id} job={j} act={act} />)}
                    </tbody>
                  </table>
                </div>
              )}
          </section>
          <p className="muted admin-foot">
            Updated {new Date(stats.generated_at).toLocaleTimeString()}{" "}
            · live figures over Realtime (at most one update a second)
          </p>
        </>
      )}
    </section>
  );
}
