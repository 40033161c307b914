// Wires the real dependencies into the fal-webhook handler.
import { createFinalize } from "../_shared/finalize.ts";
import { createWebhookVerifier } from "../_shared/fal_webhook_verify.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createWebhookHandler } from "./handler.ts";

const rt = createRuntime("fal-webhook");
const verifier = createWebhookVerifier({ jwksUrl: rt.env.FAL_JWKS_URL });
Deno.serve(createWebhookHandler({
  ...rt,
  verify: (headers, raw) => verifier.verify(headers, raw),
  falUserId: rt.env.FAL_WEBHOOK_USER_ID,
  finalize: createFinalize(rt),
}));
