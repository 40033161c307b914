/**
 * Realtime fan-out: N WebSocket clients (Phoenix vsn 1.0.0 JSON frames, as realtime-js speaks
 * them) join one channel; the database broadcasts K messages (realtime.send, the same path a job
 * transition takes: insert → NOTIFY → gateway → every subscriber). Delivery latency per client
 * and message, from just before the SQL call to the frame's arrival.
 */
import type { BenchStack } from "./bench_stack.ts";
import { round, summary } from "./stats.ts";

export interface FanoutResult {
  clients: number;
  messages: number;
  joinSeconds: number;
  delivered: number;
  expected: number;
  latencyMs: ReturnType<typeof summary>;
  command: string;
}

/** Connects `clients` sockets, sends `messages` broadcasts `gapMs` apart, collects latencies. */
export async function measureFanout(
  b: BenchStack,
  opts: { clients: number; messages: number; gapMs: number; log: (line: string) => void },
): Promise<FanoutResult> {
  const topic = `bench:fanout:${crypto.randomUUID().slice(0, 8)}`;
  const url = `${b.stack.info.supabaseUrl.replace(/^http/, "ws")}/realtime/v1/websocket?apikey=${
    encodeURIComponent(b.stack.info.anonKey)
  }&vsn=1.0.0`;
  const latencies: number[] = [];
  let delivered = 0;
  const expected = opts.clients * opts.messages;
  const all = Promise.withResolvers<void>();
  const sockets: WebSocket[] = [];
  const joinStarted = performance.now();
  try {
    await Promise.all(
      Array.from({ length: opts.clients }, (_, i) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url);
          sockets.push(ws);
          const timer = setTimeout(() => reject(new Error(`client ${i} did not join`)), 30_000);
          ws.onopen = () => {
            ws.send(JSON.stringify({
              topic: `realtime:${topic}`,
              event: "phx_join",
              payload: {
                config: {
                  broadcast: { ack: false, self: false },
                  presence: { key: "", enabled: false },
                  postgres_changes: [],
                  private: false,
                },
                access_token: b.stack.info.anonKey,
              },
              ref: "1",
              join_ref: "1",
            }));
          };
          ws.onmessage = (e) => {
            const at = performance.now();
            const msg = JSON.parse(String(e.data));
            if (msg.event === "phx_reply" && msg.ref === "1") {
              clearTimeout(timer);
              if (msg.payload?.status === "ok") resolve();
              else reject(new Error(`join refused: ${JSON.stringify(msg.payload)}`));
            } else if (msg.event === "broadcast") {
              const sentAt = msg.payload?.payload?.sent_at as number | undefined;
              if (typeof sentAt === "number") latencies.push(at - sentAt);
              if (++delivered === expected) all.resolve();
            }
          };
          ws.onerror = () => reject(new Error(`client ${i}: socket error`));
        })),
    );
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    opts.log(`fan-out: ${opts.clients} clients joined in ${round(joinSeconds, 1)} s`);
    for (let k = 0; k < opts.messages; k++) {
      // Sender and receivers are this process: one monotonic clock for both ends.
      const sentAt = performance.now();
      await b.stack.sql`
        select realtime.send(jsonb_build_object('sent_at', ${sentAt}::float8, 'k', ${k}::int),
          'tick', ${topic}, false)`;
      // The send schedule of the benchmark (K messages gapMs apart), not a synchronisation.
      await new Promise((r) => setTimeout(r, opts.gapMs));
    }
    const timer = setTimeout(() => all.resolve(), 30_000);
    await all.promise;
    clearTimeout(timer);
    return {
      clients: opts.clients,
      messages: opts.messages,
      joinSeconds: round(joinSeconds, 1),
      delivered,
      expected,
      latencyMs: summary(latencies),
      command: "deno task bench -- --only fanout",
    };
  } finally {
    for (const ws of sockets) {
      try {
        ws.close();
      } catch { /* already closed */ }
    }
  }
}
