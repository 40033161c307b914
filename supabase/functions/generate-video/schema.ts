/** The request body of `generate-video` (zod schema = TypeScript type). */
import { z } from "zod";

export const GenerateRequest = z.object({
  prompt: z.string().trim().min(1, "must not be empty").max(2000),
  model: z.string().min(1).max(100).optional(),
  duration: z.number().int().positive().max(120).optional(),
  aspect_ratio: z.string().min(1).max(10).optional(),
  image_path: z.string().min(1).max(500).optional(),
  idempotency_key: z.string().min(1).max(200).optional(),
}).strict();

export type GenerateRequest = z.infer<typeof GenerateRequest>;

/** The first problem of a failed parse, naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  if (issue.code === "unrecognized_keys") return `unknown field(s): ${issue.keys.join(", ")}`;
  const field = issue.path.join(".") || "body";
  return `${field}: ${issue.message}`;
}
