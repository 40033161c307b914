/**
 * Webhook delivery like fal's: a signed POST of `{request_id, gateway_request_id, status,
 * payload, error?, payload_error?}` to the request's `fal_webhook` URL, retried on non-2xx answers
 * and on timeouts (15 s per delivery) 10 times over about two hours — both clocks divided by
 * `timeScale`. Faults from the control API are applied here: drop, delay, duplicate copies,
 * reorder (hold N and send newest first), wrong-key signatures and unserialisable payloads.
 */
import type { SimSettings } from "./config.ts";
import type { DeliveryAttempt, Outcome, WebhookRecord } from "./records.ts";
import type { WebhookSigner } from "./signing.ts";

/** fal's delivery timeout. */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** Waits before each of the 10 retries (about two hours in total, as fal documents). */
export const RETRY_DELAYS_MS = [
  15_000,
  30_000,
  60_000,
  120_000,
  240_000,
  480_000,
  960_000,
  1_800_000,
  1_800_000,
  1_800_000,
];

/** What the sender needs from a completed request. */
export interface WebhookSubject {
  requestId: string;
  gatewayRequestId: string;
  outcome: Outcome;
  webhook: WebhookRecord;
}

export interface WebhookSender {
  /** Sends the webhook of a completed request (its `webhook.url` must be set). */
  send(subject: WebhookSubject): void;
  /** Releases webhooks held in the reorder buffer (newest first). */
  flush(): void;
  /** Stops all deliveries and forgets held webhooks. */
  reset(): void;
}

/** The webhook body fal sends for an outcome. */
export function webhookBody(
  requestId: string,
  gatewayRequestId: string,
  outcome: Outcome,
  payloadError: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    request_id: requestId,
    gateway_request_id: gatewayRequestId,
    status: outcome.ok ? "OK" : "ERROR",
    payload: outcome.ok ? outcome.payload : outcome.body,
  };
  if (!outcome.ok) body.error = outcome.error;
  if (payloadError) {
    body.payload = null;
    body.payload_error = "Failed to serialize the payload as JSON.";
  }
  return body;
}

/** Creates a sender; `changed(id)` is called whenever a request's webhook record changes. */
export function createWebhookSender(deps: {
  signer: WebhookSigner;
  settings: () => SimSettings;
  changed: (requestId: string) => void;
  log: (line: string) => void;
}): WebhookSender {
  let held: (() => Promise<void>)[] = [];
  let ctrl = new AbortController();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function send(s: WebhookSubject) {
    const { webhooks: faults } = deps.settings();
    const record = s.webhook;
    if (!record.url) return;
    const body = JSON.stringify(
      webhookBody(s.requestId, s.gatewayRequestId, s.outcome, faults.payloadError),
    );
    record.body = body;
    if (Math.random() < faults.dropRate) {
      record.state = "dropped";
      deps.log(`webhook ${s.requestId}: dropped`);
      deps.changed(s.requestId);
      return;
    }
    const copies = 1 + faults.duplicates;
    /** Starts every copy; resolves once each copy's first attempt has been answered. */
    const go = (): Promise<void> => {
      record.state = "sending";
      deps.changed(s.requestId);
      let open = copies;
      let anyDelivered = false;
      const firstAttempts: Promise<void>[] = [];
      for (let copy = 0; copy < copies; copy++) {
        const first = Promise.withResolvers<void>();
        firstAttempts.push(first.promise);
        void deliver(s, body, copy, faults, first.resolve).then((ok) => {
          first.resolve();
          anyDelivered ||= ok;
          if (--open === 0) {
            record.state = anyDelivered ? "delivered" : "failed";
            deps.changed(s.requestId);
          }
        });
      }
      return Promise.all(firstAttempts).then(() => {});
    };
    const release = faults.delayMs > 0
      ? () => new Promise<void>((resolve) => later(faults.delayMs, () => go().then(resolve)))
      : go;
    record.state = "held";
    deps.changed(s.requestId);
    if (faults.reorderWindow > 1) {
      held.push(release);
      if (held.length >= faults.reorderWindow) flush();
    } else {
      void release();
    }
  }

  function flush() {
    const batch = held.reverse();
    held = [];
    // One after the other, so the receiver really sees them in this order.
    void batch.reduce((prev, release) => prev.then(release), Promise.resolve());
  }

  /** Delivers one copy with fal's retries; true when a 2xx was received. */
  async function deliver(
    s: WebhookSubject,
    body: string,
    copy: number,
    faults: Pick<SimSettings["webhooks"], "wrongKey" | "userId">,
    firstAnswered: () => void,
  ): Promise<boolean> {
    const wrongKey = faults.wrongKey;
    const signal = ctrl.signal;
    const bytes = new TextEncoder().encode(body);
    for (let retry = 0; retry <= RETRY_DELAYS_MS.length; retry++) {
      if (signal.aborted) return false;
      const scale = deps.settings().timeScale;
      const attempt: DeliveryAttempt = {
        copy,
        retry,
        at: Date.now(),
        status: null,
        error: null,
        signedWithWrongKey: wrongKey,
      };
      try {
        const headers = await deps.signer.sign(s.requestId, bytes, {
          wrongKey,
          ...(faults.userId ? { userId: faults.userId } : {}),
        });
        const res = await fetch(s.webhook.url!, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "fal-sim-webhook",
            ...headers,
          },
          body: bytes,
          redirect: "manual",
          signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS / scale)]),
        });
        await res.body?.cancel();
        attempt.status = res.status;
      } catch (e) {
        attempt.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      if (signal.aborted) return false;
      s.webhook.deliveries.push(attempt);
      firstAnswered();
      deps.log(
        `webhook ${s.requestId} copy ${copy} try ${retry}: ${attempt.status ?? attempt.error}`,
      );
      deps.changed(s.requestId);
      if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) return true;
      const delay = RETRY_DELAYS_MS[retry];
      if (delay === undefined) return false;
      await new Promise<void>((resolve) => {
        later(delay / scale, resolve);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    return false;
  }

  return {
    send,
    flush,
    reset() {
      ctrl.abort();
      ctrl = new AbortController();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      held = [];
    },
  };
}
