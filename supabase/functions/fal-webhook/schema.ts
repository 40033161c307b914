/** The body fal POSTs to a webhook (docs/fal-protocol.md, "Webhooks"). */
import { z } from "zod";

export const FalWebhookBody = z.object({
  request_id: z.string().min(1).max(200),
  gateway_request_id: z.string().max(200).nullish(),
  status: z.enum(["OK", "ERROR"]),
  payload: z.unknown().optional(),
  error: z.string().nullish(),
  payload_error: z.string().nullish(),
});

export type FalWebhookBody = z.infer<typeof FalWebhookBody>;
