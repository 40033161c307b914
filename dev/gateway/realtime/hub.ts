/**
 * Which joined channels listen to which topic, and fan-out to them. Channels are indexed by topic
 * and privacy (a private message never reaches a public join of the same name, and the other way
 * round, as on Supabase), and a message is encoded once per protocol version, not once per client.
 */
import { type BroadcastMessage, encodeBroadcast, type Vsn } from "./frames.ts";

/** The socket side of a joined channel, as far as fan-out needs it. */
export interface Subscriber {
  readonly vsn: Vsn;
  send(frame: string | Uint8Array): void;
}

/** One joined channel in the index. */
export interface HubMember {
  /** Full Phoenix topic, `realtime:<name>`. */
  readonly topic: string;
  /** Channel name without the `realtime:` prefix. */
  readonly name: string;
  readonly isPrivate: boolean;
  readonly subscriber: Subscriber;
}

/** The channel index. */
export interface Hub {
  add(member: HubMember): void;
  remove(member: HubMember): void;
  /**
   * Sends `message` to every member joined to `name` with the given privacy, except `except`
   * (the sender when it did not ask for `self`). Returns how many members it was sent to.
   */
  deliver(
    name: string,
    isPrivate: boolean,
    message: BroadcastMessage,
    except?: HubMember,
  ): number;
  /** Number of joined channels (for logs and tests). */
  size(): number;
}

function keyOf(name: string, isPrivate: boolean): string {
  return `${isPrivate ? "private" : "public"}:${name}`;
}

/** Creates an empty channel index. */
export function createHub(): Hub {
  const index = new Map<string, Set<HubMember>>();
  let count = 0;
  return {
    add(member) {
      const key = keyOf(member.name, member.isPrivate);
      let members = index.get(key);
      if (!members) index.set(key, members = new Set());
      if (!members.has(member)) {
        members.add(member);
        count++;
      }
    },
    remove(member) {
      const key = keyOf(member.name, member.isPrivate);
      const members = index.get(key);
      if (members?.delete(member)) {
        count--;
        if (members.size === 0) index.delete(key);
      }
    },
    deliver(name, isPrivate, message, except) {
      const members = index.get(keyOf(name, isPrivate));
      if (!members) return 0;
      const topic = `realtime:${name}`;
      const frames = new Map<Vsn, string | Uint8Array | null>();
      let sent = 0;
      for (const member of members) {
        if (member === except) continue;
        const vsn = member.subscriber.vsn;
        let frame = frames.get(vsn);
        if (frame === undefined) frames.set(vsn, frame = encodeBroadcast(vsn, topic, message));
        if (frame === null) continue;
        member.subscriber.send(frame);
        sent++;
      }
      return sent;
    },
    size: () => count,
  };
}
