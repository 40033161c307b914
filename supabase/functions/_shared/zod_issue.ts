/**
 * Turns a failed zod parse into the one-line message our `invalid_input` errors carry. Shared by
 * every function that validates a body, since functions never import each other.
 */
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
