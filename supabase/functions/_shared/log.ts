/**
 * Structured JSON logs: one line per event with the function name and whatever ids the caller
 * knows (job_id, request_id, user_id). Secrets are never passed in.
 */

export type LogFields = Record<string, unknown>;
export type Logger = (msg: string, fields?: LogFields) => void;

/** A logger that writes JSON lines to stderr, tagged with the function's name. */
export function createLogger(fn: string, write: (line: string) => void = console.error): Logger {
  return (msg, fields = {}) =>
    write(JSON.stringify({ at: new Date().toISOString(), fn, msg, ...fields }));
}
