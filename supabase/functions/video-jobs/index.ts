// Wires the real dependencies into the video-jobs handler.
import { createJobMedia } from "../_shared/job_media.ts";
import { createPipelines } from "../_shared/pipelines.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createVideoJobsHandler } from "./handler.ts";

const rt = createRuntime("video-jobs");
Deno.serve(
  createVideoJobsHandler({
    ...rt,
    storage: rt.clientStorage,
    pipelines: createPipelines(rt.sql),
    media: createJobMedia(rt.sql),
    limits: rt.env,
  }),
);
