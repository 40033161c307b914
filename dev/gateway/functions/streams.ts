/**
 * Stream helpers for proxying to a worker: a request body that stops at the size limit, and a
 * response body that says when it is finished (read to the end, failed or abandoned), which is
 * when the request stops counting as in flight.
 */

/** Passes `body` through, erroring once more than `maxBytes` went by (then calls `onOver`). */
export function limitBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  onOver: () => void,
): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          onOver();
          controller.error(new Error(`request body over ${maxBytes} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Passes `body` through and calls `onEnd` once when it ends in any way. */
export function whenDone(
  body: ReadableStream<Uint8Array> | null,
  onEnd: () => void,
): ReadableStream<Uint8Array> | null {
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  if (!body) {
    end();
    return null;
  }
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          end();
        } else {
          controller.enqueue(value);
        }
      } catch (e) {
        controller.error(e);
        end();
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason).catch(() => {});
    },
  });
}
