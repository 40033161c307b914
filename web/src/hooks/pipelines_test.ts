/** Unit tests of the parent/child views: grouping, retries, progress, stage and field errors. */
import assert from "node:assert/strict";
import type { PipelineJob } from "../pipeline_types.ts";
import { initialJobsState, jobsReducer } from "./jobs_reducer.ts";
import {
  childrenOf,
  fieldErrorOf,
  moveItem,
  parentFraction,
  rowJobs,
  stageLabel,
} from "./pipelines.ts";

function job(over: Partial<PipelineJob>): PipelineJob {
  return {
    id: "j",
    kind: "video",
    status: "queued",
    progress: null,
    model: "m",
    prompt: null,
    parent_id: null,
    credits_cost: 1,
    version: 1,
    video_url: null,
    error: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    submitted_at: null,
    started_at: null,
    completed_at: null,
    expected_seconds: 5,
    queue_position: null,
    ...over,
  };
}

Deno.test("children are grouped by scene in running order, the compose job apart", () => {
  const jobs = [
    job({ id: "a2", kind: "audio", parent_id: "p", item: 2 }),
    job({ id: "i1", kind: "image", parent_id: "p", item: 1 }),
    job({ id: "c", kind: "compose", parent_id: "p", item: null }),
    job({ id: "a1", kind: "audio", parent_id: "p", item: 1 }),
    job({ id: "i2", kind: "image", parent_id: "p", item: 2 }),
    job({ id: "other", kind: "image", parent_id: "q", item: 1 }),
  ];
  const grouped = childrenOf(jobs, "p");
  assert.deepEqual(grouped.items.map((r) => r.item), [1, 2]);
  assert.deepEqual(rowJobs(grouped.items[0]!).map((j) => j.id), ["i1", "a1"]);
  assert.equal(grouped.compose?.id, "c");
});

Deno.test("a retried child replaces the failed one in its scene", () => {
  const jobs = [
    job({ id: "old", kind: "image", parent_id: "p", item: 1, status: "failed" }),
    job({
      id: "new",
      kind: "image",
      parent_id: "p",
      item: 1,
      retry_of: "old",
      created_at: "2026-01-01T00:01:00Z",
    }),
  ];
  assert.equal(childrenOf(jobs, "p").items[0]!.jobs.image!.id, "new");
});

Deno.test("parent progress uses the server's weighted figure, else the finished share", () => {
  assert.equal(parentFraction(job({ kind: "story", progress: 40 })), 0.4);
  assert.equal(
    parentFraction(job({
      kind: "batch",
      progress: null,
      pipeline: { total: 4, completed: 1, failed: 0, canceled: 0, active: 3 },
    })),
    0.25,
  );
  assert.equal(parentFraction(job({ kind: "story", status: "completed", progress: 99 })), 1);
});

Deno.test("the stage label says what a story is doing; a batch shows its counts", () => {
  const counts = { total: 3, completed: 1, failed: 0, canceled: 0, active: 2 };
  assert.equal(
    stageLabel(job({ kind: "story", pipeline: { ...counts, stage: "narration" } })),
    "Recording narration",
  );
  assert.equal(stageLabel(job({ kind: "batch", pipeline: counts })), "1 of 3 done");
});

Deno.test("validation messages are split into the field they name and the text", () => {
  assert.deepEqual(fieldErrorOf("scenes.0.text: must not be empty"), {
    field: "scenes.0.text",
    message: "must not be empty",
  });
  assert.deepEqual(fieldErrorOf("variables.BRAND: at most 40 characters"), {
    field: "variables.BRAND",
    message: "at most 40 characters",
  });
  assert.deepEqual(fieldErrorOf("Not enough credits."), {
    field: null,
    message: "Not enough credits.",
  });
});

Deno.test("moving a scene reorders the list and ignores moves out of range", () => {
  assert.deepEqual(moveItem(["a", "b", "c"], 2, 0), ["c", "a", "b"]);
  assert.deepEqual(moveItem(["a", "b", "c"], 0, 3), ["a", "b", "c"]);
});

Deno.test("a parent's cost is not reserved again on top of its children's", () => {
  const credits = { available: 20, reserved: 0 };
  let state = jobsReducer(initialJobsState, {
    type: "snapshot_loaded",
    jobs: [],
    credits,
    nextCursor: null,
  });
  state = jobsReducer(state, {
    type: "job_loaded",
    job: job({ id: "p", kind: "story", credits_cost: 3 }),
  });
  for (const id of ["a", "b", "c"]) {
    state = jobsReducer(state, {
      type: "job_loaded",
      job: job({ id, kind: "image", parent_id: "p", item: 1, credits_cost: 1 }),
    });
  }
  assert.deepEqual(state.credits, { available: 17, reserved: 3 });
  state = jobsReducer(state, {
    type: "job_event",
    job: job({ id: "p", kind: "story", credits_cost: 3, status: "failed", version: 2 }),
  });
  assert.deepEqual(state.credits, { available: 17, reserved: 3 }, "children release their own");
});
