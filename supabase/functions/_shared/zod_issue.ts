/** How a request body that failed its zod schema is explained to the client, in one line. */
import type { z } from "zod";

/** The first problem of a failed parse, naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  if (issue.code === "unrecognized_keys") {
    const at = issue.path.length ? `${issue.path.join(".")}: ` : "";
    return `${at}unknown field(s): ${issue.keys.join(", ")}`;
  }
  const field = issue.path.join(".") || "body";
  return `${field}: ${issue.message}`;
}
