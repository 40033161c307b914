/**
 * `deno task dev`: starts the local stack on STACK_PORT (default 54321) — Postgres, migrations,
 * then the gateway with every function's worker warm — prints its URL and keys, and keeps it
 * running until Ctrl-C or SIGTERM, then stops everything cleanly. Data stays under .local/.
 */
import { ensureWebBuilt, watchWeb } from "../web/build.ts";
import { startStack } from "./stack.ts";

const stackPort = Number(Deno.env.get("STACK_PORT") ?? "54321");
if (!Number.isInteger(stackPort) || stackPort < 1024 || stackPort > 65530) {
  console.error(
    `STACK_PORT must be an integer between 1024 and 65530, got ${Deno.env.get("STACK_PORT")}`,
  );
  Deno.exit(2);
}

// The web app is rebuilt when its sources changed since the last build, and on every save.
const webLog = (line: string) => console.log(`[web] ${line}`);
await ensureWebBuilt({ log: webLog });
const stopWatching = new AbortController();
watchWeb({ signal: stopWatching.signal, log: webLog });

const stack = await startStack({
  stackPort,
  warmFunctions: true,
  log: (line) => console.log(`[stack] ${line}`),
});
console.log(`[stack] ready: ${stack.info.supabaseUrl}`);
if (stack.info.legacyKeys === "enabled") {
  console.log(`[stack]   anon key:         ${stack.info.anonKey}`);
  console.log(`[stack]   service role key: ${stack.info.serviceRoleKey}`);
} else console.log("[stack]   legacy anon / service_role keys: disabled (LEGACY_KEYS)");
console.log(`[stack]   publishable key:  ${stack.info.publishableKey}`);
console.log(`[stack]   secret key:       ${stack.info.secretKey}`);
console.log(`[stack]   database:         ${stack.info.dbUrl}`);
console.log(`[stack]   web app:          ${stack.info.webUrl}`);
console.log(`[stack]   (all of it in .local/stack.json)`);

// Signal listeners alone do not keep Deno's event loop alive; this timer does until stop().
const keepAlive = setInterval(() => {}, 1 << 30);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("[stack] stopping…");
  stopWatching.abort();
  await stack.stop();
  clearInterval(keepAlive);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
