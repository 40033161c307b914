/**
 * What the platform answers, instead of the function, when a worker cannot: `{code, message}`
 * bodies with Supabase's statuses (docs "Status codes" and the 546 troubleshooting note; the
 * BOOT_ERROR and WORKER_ERROR texts are the CLI's `functions serve` ones). 546 is the current
 * hosted name, WORKER_RESOURCE_LIMIT (formerly WORKER_LIMIT).
 */
import { json } from "../http.ts";

/** 503: the worker could not boot. */
export function bootError(): Response {
  return json({ code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" }, 503);
}

/** 500: the worker died or failed while answering. */
export function workerError(): Response {
  return json({
    code: "WORKER_ERROR",
    message: "Function exited due to an error (please check logs)",
  }, 500);
}

/** 546: the worker was stopped by a resource limit (memory, wall clock, CPU). */
export function resourceLimit(): Response {
  return json({
    code: "WORKER_RESOURCE_LIMIT",
    message: "Function failed due to not having enough compute resources (please check logs)",
  }, 546);
}

/** 504: no answer within the request idle timeout. */
export function idleTimeout(): Response {
  return json({ code: "IDLE_TIMEOUT", message: "Function timed out waiting for a response" }, 504);
}

/** 413: the request body is over the stack's bound. */
export function payloadTooLarge(maxBytes: number): Response {
  return json({
    code: "PAYLOAD_TOO_LARGE",
    message: `Request body exceeds the limit of ${maxBytes} bytes`,
  }, 413);
}
