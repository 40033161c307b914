/**
 * The simulator's request records as the control API lists them (`GET /_sim/requests`), shared by
 * the server and the typed control client.
 */
import type { EndpointKind } from "./config.ts";

export type QueueStatus = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** How a finished request ended, as its result endpoint answers. */
export type Outcome =
  | { ok: true; payload: unknown }
  | {
    ok: false;
    /** HTTP status of the result endpoint (422 validation, 499 cancelled, 5xx failures, …). */
    httpStatus: number;
    body: unknown;
    /** fal's `error_type` (also `X-Fal-Error-Type`); absent for model validation errors. */
    errorType?: string;
    /** The webhook's `error` text. */
    error: string;
    /** `"user"` when the caller's start timeout expired (`X-Fal-Request-Timeout-Type`). */
    timeoutType?: "user";
  };

/** One attempt to deliver one copy of a webhook. */
export interface DeliveryAttempt {
  /** 0 for the original, 1.. for duplicates. */
  copy: number;
  /** 0 for the first try, 1..10 for fal's retries. */
  retry: number;
  at: number;
  /** HTTP status answered, or null when the delivery failed or timed out. */
  status: number | null;
  error: string | null;
  signedWithWrongKey: boolean;
}

/**
 * Where a request's webhook is: `none` (no `fal_webhook`), `pending` (waiting for completion),
 * `held` (delayed or in the reorder buffer), `sending`, then `delivered` (a copy got a 2xx),
 * `failed` (every copy gave up after fal's retries) or `dropped` (the drop knob).
 */
export type WebhookState =
  | "none"
  | "pending"
  | "held"
  | "sending"
  | "delivered"
  | "failed"
  | "dropped";

export interface WebhookRecord {
  url: string | null;
  state: WebhookState;
  /** The exact body sent (after completion). */
  body: string | null;
  deliveries: DeliveryAttempt[];
}

/** What the simulator knows about one request. */
export interface RequestRecord {
  requestId: string;
  gatewayRequestId: string;
  endpointId: string;
  kind: EndpointKind;
  input: unknown;
  status: QueueStatus;
  priority: "normal" | "low";
  startTimeoutSeconds: number | null;
  noRetry: boolean;
  runnerHint: string | null;
  /** Whether the submit carried `Authorization: Key …`. */
  authorized: boolean;
  submittedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  attempts: number;
  cancelRequested: boolean;
  outcome: Outcome | null;
  webhook: WebhookRecord;
}

/** One submit the simulator received, including those it refused. */
export interface SubmitRecord {
  at: number;
  endpointId: string;
  /** HTTP status the simulator answered. */
  answered: number;
  /** The request created (also set when a fault answered 5xx after accepting). */
  requestId: string | null;
  /** Its answer is being held (the `hold` submit fault) until the control API releases it. */
  held: boolean;
}
