/**
 * The Phoenix wire format as `@supabase/realtime-js` speaks it: vsn 1.0.0 frames are JSON objects,
 * vsn 2.0.0 frames are JSON arrays `[join_ref, ref, topic, event, payload]`, except broadcasts,
 * which travel as binary frames (kind 3 = a client's broadcast push, kind 4 = a broadcast to a
 * client). Only kind 4 is ever sent: realtime-js cannot decode the other binary kinds.
 */

/** Protocol versions realtime-js can ask for with `?vsn=`. */
export type Vsn = "1.0.0" | "2.0.0";

export const VSN_1: Vsn = "1.0.0";
export const VSN_2: Vsn = "2.0.0";

/** Parses the `vsn` query parameter; Phoenix treats a missing one as 1.0.0. */
export function parseVsn(value: string | null): Vsn | null {
  if (value === null || value === "" || value === VSN_1) return VSN_1;
  if (value === VSN_2) return VSN_2;
  return null;
}

/** A user broadcast (`{type:"broadcast", event, payload}`) reduced to what is relayed. */
export interface BroadcastMessage {
  event: string;
  /** The user payload as JSON text (already validated), or … */
  json?: string;
  /** … raw bytes, which only vsn 2 clients can receive. */
  binary?: Uint8Array;
  /** Metadata as JSON text, e.g. `{"id":"…"}` for messages from the database. */
  meta?: string;
}

/** A frame received from a client. */
export interface InboundFrame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  /** The JSON payload of a text frame (`undefined` for binary frames). */
  payload?: unknown;
  /** Set for broadcasts, whichever way the client encoded them. */
  broadcast?: BroadcastMessage;
}

/** A frame sent to a client as text: replies, pushes and control events. */
export interface OutboundFrame {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;
const ENCODING_BINARY = 0;
const ENCODING_JSON = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function refOrNull(value: unknown): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number") return String(value);
  return null;
}

/** Decodes one client frame; `null` when it is not a frame this protocol version allows. */
export function decodeFrame(vsn: Vsn, data: string | ArrayBuffer): InboundFrame | null {
  if (typeof data !== "string") {
    return vsn === VSN_2 ? decodeBinaryPush(new Uint8Array(data)) : null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  let joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown;
  if (vsn === VSN_2) {
    if (!Array.isArray(parsed) || parsed.length !== 5) return null;
    [joinRef, ref, topic, event, payload] = parsed;
  } else {
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    ({ join_ref: joinRef, ref, topic, event, payload } = parsed as Record<string, unknown>);
  }
  if (typeof topic !== "string" || typeof event !== "string") return null;
  const frame: InboundFrame = {
    joinRef: refOrNull(joinRef),
    ref: refOrNull(ref),
    topic,
    event,
    payload,
  };
  if (event === "broadcast") frame.broadcast = broadcastFromJson(payload) ?? undefined;
  return frame;
}

/** `{type:"broadcast", event, payload}` as realtime-js sends it in a text frame. */
function broadcastFromJson(payload: unknown): BroadcastMessage | null {
  if (payload === null || typeof payload !== "object") return null;
  const { event, payload: user } = payload as Record<string, unknown>;
  if (typeof event !== "string") return null;
  // realtime-js's binary encoder sends `{}` for a missing payload; do the same for text frames.
  return { event, json: JSON.stringify(user === undefined ? {} : user) };
}

/**
 * Kind 3: `[3, joinRefLen, refLen, topicLen, eventLen, metaLen, encoding]`, then the join ref,
 * ref, topic, user event and metadata as UTF-8, then the payload (JSON text or raw bytes).
 */
function decodeBinaryPush(bytes: Uint8Array): InboundFrame | null {
  if (bytes.length < 7 || bytes[0] !== KIND_USER_BROADCAST_PUSH) return null;
  const lengths = [bytes[1]!, bytes[2]!, bytes[3]!, bytes[4]!, bytes[5]!];
  const encoding = bytes[6]!;
  if (encoding !== ENCODING_JSON && encoding !== ENCODING_BINARY) return null;
  let offset = 7;
  const fields: string[] = [];
  try {
    for (const length of lengths) {
      if (offset + length > bytes.length) return null;
      fields.push(decoder.decode(bytes.subarray(offset, offset + length)));
      offset += length;
    }
  } catch {
    return null;
  }
  const [joinRef, ref, topic, event] = fields as [string, string, string, string, string];
  const body = bytes.slice(offset);
  const broadcast: BroadcastMessage = { event };
  if (encoding === ENCODING_JSON) {
    let text: string;
    try {
      text = decoder.decode(body);
      JSON.parse(text); // relayed verbatim to other clients, so it must be valid JSON
    } catch {
      return null;
    }
    broadcast.json = text;
  } else {
    broadcast.binary = body;
  }
  return { joinRef: refOrNull(joinRef), ref: refOrNull(ref), topic, event: "broadcast", broadcast };
}

/** Encodes a reply or push as a text frame. */
export function encodeFrame(vsn: Vsn, frame: OutboundFrame): string {
  if (vsn === VSN_2) {
    return JSON.stringify([frame.joinRef, frame.ref, frame.topic, frame.event, frame.payload]);
  }
  return JSON.stringify({
    topic: frame.topic,
    event: frame.event,
    payload: frame.payload,
    ref: frame.ref,
    join_ref: frame.joinRef,
  });
}

/** `{"type":"broadcast","event":…,"payload":…[,"meta":…]}` built from already-encoded parts. */
function broadcastPayloadJson(message: BroadcastMessage): string {
  const meta = message.meta === undefined ? "" : `,"meta":${message.meta}`;
  return `{"type":"broadcast","event":${
    JSON.stringify(message.event)
  },"payload":${message.json}${meta}}`;
}

/**
 * Encodes a broadcast for every client of one protocol version on `topic` (the caller encodes
 * once and sends the same frame to all of them). Returns `null` when the version cannot carry it:
 * raw bytes have no vsn 1.0.0 representation.
 */
export function encodeBroadcast(
  vsn: Vsn,
  topic: string,
  message: BroadcastMessage,
): string | Uint8Array | null {
  if (vsn === VSN_1) {
    if (message.json === undefined) return null;
    return `{"topic":${JSON.stringify(topic)},"event":"broadcast","payload":${
      broadcastPayloadJson(message)
    },"ref":null,"join_ref":null}`;
  }
  const topicBytes = encoder.encode(topic);
  const eventBytes = encoder.encode(message.event);
  const metaBytes = encoder.encode(message.meta ?? "");
  if (topicBytes.length > 255 || eventBytes.length > 255 || metaBytes.length > 255) {
    // Kind 4 stores lengths in one byte; a JSON array frame carries anything that is JSON.
    if (message.json === undefined) return null;
    return `[null,null,${JSON.stringify(topic)},"broadcast",${broadcastPayloadJson(message)}]`;
  }
  const body = message.json !== undefined ? encoder.encode(message.json) : message.binary!;
  const headerLength = 5 + topicBytes.length + eventBytes.length + metaBytes.length;
  const out = new Uint8Array(headerLength + body.length);
  out[0] = KIND_USER_BROADCAST;
  out[1] = topicBytes.length;
  out[2] = eventBytes.length;
  out[3] = metaBytes.length;
  out[4] = message.json !== undefined ? ENCODING_JSON : ENCODING_BINARY;
  let offset = 5;
  for (const part of [topicBytes, eventBytes, metaBytes, body]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
