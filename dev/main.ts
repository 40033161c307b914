/**
 * `deno task dev`: starts the local stack on STACK_PORT (default 54321) and keeps it running
 * until Ctrl-C or SIGTERM, then stops everything cleanly. Data stays under .local/.
 */
import { startStack } from "./stack.ts";

const stackPort = Number(Deno.env.get("STACK_PORT") ?? "54321");
if (!Number.isInteger(stackPort) || stackPort < 1024 || stackPort > 65530) {
  console.error(
    `STACK_PORT must be an integer between 1024 and 65530, got ${Deno.env.get("STACK_PORT")}`,
  );
  Deno.exit(2);
}

const stack = await startStack({ stackPort, log: (line) => console.log(`[stack] ${line}`) });
console.log(`[stack] ready: ${JSON.stringify(stack.info)}`);

// Signal listeners alone do not keep Deno's event loop alive; this timer does until stop().
const keepAlive = setInterval(() => {}, 1 << 30);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("[stack] stopping…");
  await stack.stop();
  clearInterval(keepAlive);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
