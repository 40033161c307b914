/**
 * Library: every job of the user, newest first, each with live status and progress. The list is
 * the store's state (snapshot + events), so it is current without any polling.
 */
import { useState } from "react";
import { JobCard } from "../components/job_card.tsx";
import { useModels, useVideoGeneration } from "../hooks/use_video_generation.ts";

export function LibraryPage(props: { headingRef: (el: HTMLHeadingElement | null) => void }) {
  const { jobs, loaded, runningCount, hasMore, loadMore, syncError, resync } = useVideoGeneration();
  const { models } = useModels();
  const [loadingMore, setLoadingMore] = useState(false);

  return (
    <section className="page" aria-labelledby="library-title">
      <div className="section-head">
        <h1 id="library-title" tabIndex={-1} ref={props.headingRef}>Library</h1>
        {loaded && (
          <p className="muted" data-testid="library-summary">
            {jobs.length} video{jobs.length === 1 ? "" : "s"}
            {runningCount > 0 ? ` · ${runningCount} in progress` : ""}
          </p>
        )}
      </div>
      {syncError && (
        <p className="inline-error" role="alert">
          Could not load your videos ({syncError.message}).{" "}
          <button type="button" className="link-button" onClick={() => void resync()}>
            Try again
          </button>
        </p>
      )}
      {!loaded && !syncError && <p className="muted">Loading your videos…</p>}
      {loaded && jobs.length === 0 && (
        <div className="empty panel">
          <p>No videos yet.</p>
          <a className="button button-primary" href="#/generate">Generate your first video</a>
        </div>
      )}
      <ul className="job-list">
        {jobs.map((job) => (
          <li key={job.id}>
            <JobCard job={job} models={models} />
          </li>
        ))}
      </ul>
      {hasMore && (
        <button
          type="button"
          className="button button-secondary load-more"
          disabled={loadingMore}
          onClick={async () => {
            setLoadingMore(true);
            try {
              await loadMore();
            } finally {
              setLoadingMore(false);
            }
          }}
        >
          {loadingMore ? "Loading…" : "Show older videos"}
        </button>
      )}
    </section>
  );
}
