// Wires the real dependencies into the job-events handler.
import { createRuntime } from "../_shared/runtime.ts";
import { createEventsReader, createJobEventsHandler } from "./handler.ts";

const rt = createRuntime("job-events");
Deno.serve(createJobEventsHandler({ ...rt, eventsFor: createEventsReader(rt.sql) }));
