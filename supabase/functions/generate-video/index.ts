// Wires the real dependencies into the generate-video handler.
import { createCreateChecks } from "../_shared/create_checks.ts";
import { createInputImageCheck, createInputImageDiscard } from "../_shared/input_images.ts";
import { createPipelines } from "../_shared/pipelines.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createTemplateCatalog } from "../_shared/templates.ts";
import { createGenerateHandler } from "./handler.ts";

const rt = createRuntime("generate-video");
Deno.serve(createGenerateHandler({
  ...rt,
  limits: rt.env,
  templates: createTemplateCatalog(rt.sql),
  pipelines: createPipelines(rt.sql),
  checkImage: createInputImageCheck(rt),
  discardImages: createInputImageDiscard(rt),
  checks: createCreateChecks(rt.sql),
}));
