// Wires the real dependencies into the video-jobs handler.
import { createRuntime } from "../_shared/runtime.ts";
import { createVideoJobsHandler } from "./handler.ts";

const rt = createRuntime("video-jobs");
Deno.serve(createVideoJobsHandler({ ...rt, limits: rt.env }));
