/**
 * One job as a card: prompt, model, live status and progress (estimated locally between events),
 * queue position, elapsed/expected time; the video with a download link once ready; the error
 * with Retry when it failed; Cancel while running; Delete when done.
 */
import { useId, useState } from "react";
import { ApiError } from "../api.ts";
import { ago, clock, credits, queueReasonText, roughDuration, statusLabel } from "../format.ts";
import { useJobProgress, useVideoGeneration } from "../hooks/use_video_generation.ts";
import { isActive, type Job, type Model } from "../types.ts";
import { JobTimelineDetails } from "./job_timeline.tsx";
import { useToast } from "./toasts.tsx";

/** A download link for a signed Storage URL (`download` makes Storage send an attachment). */
function downloadUrl(url: string, jobId: string): string {
  const name = `vidqueue-${jobId.slice(0, 8)}.mp4`;
  return `${url}${url.includes("?") ? "&" : "?"}download=${encodeURIComponent(name)}`;
}

/** A server message as a sentence (capitalised, ending in punctuation), or nothing. */
function sentence(message: string | null | undefined): string {
  const m = (message ?? "").trim();
  if (!m) return "";
  const capital = m[0]!.toUpperCase() + m.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function ProgressBar(props: { job: Job; clockOffsetMs: number; labelledBy: string }) {
  const { job } = props;
  const { fraction, elapsedSeconds, expectedSeconds } = useJobProgress(job, props.clockOffsetMs);
  const percent = Math.round(fraction * 100);
  const queued = job.status === "queued";
  const remaining = expectedSeconds ? Math.max(0, expectedSeconds - elapsedSeconds) : null;
  const valueText = queued
    ? `Waiting to start, ${clock(elapsedSeconds)} so far`
    : `${percent}%${remaining !== null && remaining > 0 ? `, about ${clock(remaining)} left` : ""}`;
  return (
    <div className="progress-wrap">
      <div
        className={`progress ${queued ? "progress-queued" : ""}`}
        role="progressbar"
        aria-labelledby={props.labelledBy}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={queued ? undefined : percent}
        aria-valuetext={valueText}
        data-testid="progress"
      >
        <div className="progress-fill" style={{ width: `${queued ? 0 : percent}%` }} />
      </div>
      <div className="progress-meta">
        <span>{queued ? `Waiting ${clock(elapsedSeconds)}` : `${percent}%`}</span>
        <span data-testid="elapsed">
          {queued
            ? (expectedSeconds ? `takes ${roughDuration(expectedSeconds)}` : "")
            : `${clock(elapsedSeconds)}${expectedSeconds ? ` / ~${clock(expectedSeconds)}` : ""}`}
        </span>
      </div>
      {queued && job.queue_reason && (
        <p className="queue-reason" data-testid="queue-reason">
          {queueReasonText(job.queue_reason, Date.now() - props.clockOffsetMs)}
        </p>
      )}
    </div>
  );
}

export interface JobCardProps {
  job: Job;
  models?: Model[] | null;
  /** Heading level inside the page (Library lists use h2, a single card under an h2 uses h3). */
  headingLevel?: 2 | 3;
}

/** The card. Actions report failures as toasts. */
export function JobCard(props: JobCardProps) {
  const { job } = props;
  const { cancel, retry, remove, refreshVideoUrl, clockOffsetMs } = useVideoGeneration();
  const toast = useToast();
  const [busy, setBusy] = useState<null | "cancel" | "retry" | "delete">(null);
  const titleId = useId();
  const statusId = useId();
  const model = props.models?.find((m) => m.id === job.model);
  const Heading = props.headingLevel === 3 ? "h3" : "h2";
  const active = isActive(job.status);
  const canceling = active && !!job.cancel_requested_at;

  async function act(kind: "cancel" | "retry" | "delete") {
    setBusy(kind);
    try {
      if (kind === "cancel") await cancel(job.id);
      else if (kind === "retry") {
        await retry(job.id);
        toast({ kind: "info", title: "Retry started", body: job.prompt ?? undefined });
      } else await remove(job.id);
    } catch (e) {
      const message = e instanceof ApiError ? e.message : String(e);
      toast({ kind: "error", title: `Could not ${kind} the video`, body: message });
    } finally {
      setBusy(null);
    }
  }

  return (
    <article
      className={`job-card status-${job.status}`}
      aria-labelledby={titleId}
      data-testid="job-card"
      data-job-id={job.id}
      data-status={job.status}
    >
      <header className="job-head">
        <Heading id={titleId} className="job-title">{job.prompt || "Untitled video"}</Heading>
        <span id={statusId} className={`badge badge-${job.status}`} data-testid="job-status">
          {canceling ? "Canceling…" : statusLabel(job)}
        </span>
      </header>
      <p className="job-meta">
        {model?.title ?? job.model} · {credits(job.credits_cost)} ·{" "}
        {ago(job.created_at, Date.now())}
      </p>

      {active && <ProgressBar job={job} clockOffsetMs={clockOffsetMs} labelledBy={statusId} />}

      {job.status === "completed" && job.video_url && (
        <div className="job-media">
          <video
            key={job.video_url}
            src={job.video_url}
            controls
            playsInline
            preload="metadata"
            aria-label={`Video: ${job.prompt ?? "untitled"}`}
            onError={() => job.video_url && refreshVideoUrl(job.id, job.video_url)}
          />
        </div>
      )}
      {job.status === "completed" && !job.video_url && (
        <p className="job-note">Fetching the video link…</p>
      )}
      {job.status === "failed" && (
        <p className="job-error" data-testid="job-error">
          <strong>This video could not be made.</strong> {sentence(job.error?.message)}
          <span className="job-error-note">Your credits were returned.</span>
        </p>
      )}

      <div className="job-actions">
        {job.status === "completed" && job.video_url && (
          <a className="button button-secondary" href={downloadUrl(job.video_url, job.id)} download>
            Download
          </a>
        )}
        {active && (
          <button
            type="button"
            className="button button-secondary"
            disabled={busy !== null || canceling}
            onClick={() => act("cancel")}
            aria-describedby={titleId}
          >
            {busy === "cancel" ? "Canceling…" : "Cancel"}
          </button>
        )}
        {(job.status === "failed" || job.status === "canceled") && (
          <button
            type="button"
            className="button"
            disabled={busy !== null}
            onClick={() => act("retry")}
            aria-describedby={titleId}
          >
            {busy === "retry" ? "Retrying…" : "Retry"}
          </button>
        )}
        {!active && (
          <button
            type="button"
            className="button button-ghost"
            disabled={busy !== null}
            onClick={() => act("delete")}
            aria-describedby={titleId}
          >
            {busy === "delete" ? "Deleting…" : "Delete"}
          </button>
        )}
      </div>
      <JobTimelineDetails jobId={job.id} version={job.version} />
    </article>
  );
}
