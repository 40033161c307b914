/**
 * A batch or story parent with its children grouped per scene/item: the stage, the weighted
 * progress, each child's status, finished parts viewable or playable as they arrive (partial
 * results), the final video, and Cancel / Retry on the parent. Live from the store (Realtime).
 */
import { useVideoGeneration } from "../hooks/use_video_generation.ts";
import { childrenOf, parentFraction, rowJobs, stageLabel } from "../hooks/pipelines.ts";
import type { PipelineJob } from "../pipeline_types.ts";
import { isActive } from "../types.ts";

const KIND_LABEL: Record<string, string> = {
  image: "Image",
  audio: "Narration",
  video: "Video",
  compose: "Final video",
};

function Media(props: { job: PipelineJob; label: string }) {
  const { refreshVideoUrl } = useVideoGeneration();
  const url = props.job.video_url;
  if (props.job.status !== "completed" || !url) return null;
  const onError = () => refreshVideoUrl(props.job.id, url);
  if (props.job.kind === "image") {
    return <img className="pipeline-image" src={url} alt={props.label} onError={onError} />;
  }
  if (props.job.kind === "audio") {
    return <audio controls src={url} aria-label={props.label} onError={onError} />;
  }
  return (
    <video
      controls
      playsInline
      preload="metadata"
      src={url}
      aria-label={props.label}
      onError={onError}
    />
  );
}

function ChildStatus(props: { job: PipelineJob; label: string }) {
  const { job } = props;
  const pct = job.status === "completed" ? 100 : Math.round(job.progress ?? 0);
  return (
    <div
      className="pipeline-child"
      data-testid="pipeline-child"
      data-kind={job.kind}
      data-status={job.status}
    >
      <span className="pipeline-child-label">{props.label}</span>
      <span className={`status status-${job.status}`}>{job.status.replace("_", " ")}</span>
      {isActive(job.status) && (
        <progress max={100} value={pct} aria-label={`${props.label} progress`} />
      )}
      {job.error && <span className="inline-error">{job.error.message}</span>}
      <Media job={job} label={props.label} />
    </div>
  );
}

/** The per-scene view of one parent. */
export function PipelineView(props: { parent: PipelineJob; onRetry(id: string): void }) {
  const { parent } = props;
  const { jobs, cancel } = useVideoGeneration();
  const grouped = childrenOf(jobs as PipelineJob[], parent.id);
  const fraction = parentFraction(parent);
  const story = parent.kind === "story";
  const unit = story ? "Scene" : "Item";
  const title = parent.prompt ?? (story ? "Story" : "Batch");
  return (
    <article
      className="panel pipeline"
      data-testid="pipeline"
      data-job-id={parent.id}
      data-status={parent.status}
      aria-label={`${story ? "Story" : "Batch"}: ${title}`}
    >
      <header className="pipeline-head">
        <h3>{title}</h3>
        <p className="muted" data-testid="pipeline-stage">
          {stageLabel(parent)} · {parent.credits_cost} credits
        </p>
        <progress
          max={100}
          value={Math.round(fraction * 100)}
          aria-label={`${story ? "Story" : "Batch"} progress`}
        />
        <span className="muted">{Math.round(fraction * 100)}%</span>
      </header>
      {parent.error && <p className="inline-error" role="alert">{parent.error.message}</p>}
      {story && parent.status === "completed" && parent.video_url && (
        <div data-testid="story-video">
          <Media job={{ ...parent, kind: "video" }} label="Story video" />
        </div>
      )}
      <ol className="pipeline-items">
        {grouped.items.map((row) => (
          <li key={row.item} data-testid="pipeline-item" data-item={row.item}>
            <h4>{unit} {row.item}</h4>
            {rowJobs(row).map((job) => (
              <ChildStatus
                key={job.id}
                job={job}
                label={`${unit} ${row.item} ${KIND_LABEL[job.kind] ?? job.kind}`}
              />
            ))}
          </li>
        ))}
        {grouped.compose && (
          <li data-testid="pipeline-item" data-item="compose">
            <ChildStatus job={grouped.compose} label="Final video" />
          </li>
        )}
      </ol>
      <div className="pipeline-actions">
        {isActive(parent.status) && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void cancel(parent.id)}
          >
            Cancel
          </button>
        )}
        {(parent.status === "failed" || parent.status === "canceled") && (
          <button
            type="button"
            className="button button-primary"
            onClick={() => props.onRetry(parent.id)}
          >
            Retry
          </button>
        )}
      </div>
    </article>
  );
}
