/**
 * Broadcast from Database: rows inserted into `realtime.messages` (by `realtime.send`,
 * `realtime.broadcast_changes` or directly) reach subscribed clients. The shim's trigger NOTIFYs
 * the message id on `realtime_messages` (NOTIFY payloads are capped at 8000 bytes, so only the id
 * travels); one dedicated LISTEN connection receives it and the row is read by id. Ids arriving
 * while a read is running are read together in the next one, in arrival order. No polling.
 * `realtime.messages` is partitioned by day, as on hosted: the listener also runs the partition
 * janitor (partitions.ts), so rows have a partition to go to while the stack runs. Reading by id
 * looks into every partition (the primary key is (id, inserted_at)).
 */
import type postgres from "postgres";
import type { BroadcastMessage } from "./frames.ts";
import { startPartitionJanitor } from "./partitions.ts";

/** A committed broadcast row, ready for fan-out. */
export interface DbMessage {
  id: string;
  topic: string;
  isPrivate: boolean;
  message: BroadcastMessage;
}

/** The running listener. */
export interface DbMessageListener {
  /** Stops listening; rows committed afterwards are not delivered. */
  stop(): Promise<void>;
}

const NOTIFY_CHANNEL = "realtime_messages";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Row {
  id: string;
  topic: string | null;
  event: string | null;
  payload: string | null;
  private: boolean | null;
}

/**
 * Starts listening (resolves once LISTEN is active, so anything committed afterwards is seen) and
 * calls `onMessage` for each broadcast row, in commit-notification order.
 */
export async function listenForDbMessages(opts: {
  sql: postgres.Sql;
  onMessage: (message: DbMessage) => void;
  log?: (line: string) => void;
}): Promise<DbMessageListener> {
  const { sql, onMessage } = opts;
  const log = opts.log ?? (() => {});
  let queue: string[] = [];
  let reading: Promise<void> | null = null;
  let stopped = false;

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const ids = queue;
      queue = [];
      try {
        // payload as text: it is relayed as JSON text, so it is never parsed and re-encoded.
        const rows = await sql<Row[]>`
          select id::text, topic, event, payload::text as payload, private
          from realtime.messages
          where id = any(${ids}::uuid[]) and extension = 'broadcast'`;
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const id of ids) {
          const row = byId.get(id);
          // Like Supabase, a row without topic, event or payload is not a message to deliver.
          if (!row || row.topic === null || row.event === null || row.payload === null) continue;
          onMessage({
            id,
            topic: row.topic,
            isPrivate: row.private === true,
            message: { event: row.event, json: row.payload, meta: JSON.stringify({ id }) },
          });
        }
      } catch (e) {
        log(`realtime: reading messages ${ids.join(",")} failed: ${e}`);
      }
    }
  }

  const janitor = await startPartitionJanitor({ sql, log });
  let unlisten: () => Promise<void>;
  try {
    ({ unlisten } = await sql.listen(NOTIFY_CHANNEL, (payload) => {
      if (stopped || !UUID.test(payload)) return;
      queue.push(payload.toLowerCase());
      reading ??= drain().finally(() => reading = null);
    }));
  } catch (e) {
    janitor.stop();
    throw e;
  }

  return {
    async stop() {
      stopped = true;
      janitor.stop();
      await unlisten().catch(() => {});
      await reading;
    },
  };
}
