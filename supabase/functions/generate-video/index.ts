// Wires the real dependencies into the generate-video handler.
import { createRuntime } from "../_shared/runtime.ts";
import { createGenerateHandler } from "./handler.ts";

const rt = createRuntime("generate-video");
Deno.serve(createGenerateHandler({ ...rt, limits: rt.env }));
