/**
 * Runs the fal simulator on its own: `deno task sim` (`deno run -A dev/fal_sim/main.ts`). Port
 * `FAL_SIM_PORT` (default STACK_PORT+2, i.e. 54323), data in `FAL_SIM_DATA_DIR` (default
 * `.local/fal_sim`), knobs from the `FAL_SIM_*` variables (config.ts). `FAL_SIM_HOSTNAME` is the
 * listen address (default 127.0.0.1) and `FAL_SIM_PUBLIC_URL` the base of the URLs it hands out,
 * for functions that reach it under another name (docs/local-with-docker.md). The dev stack
 * starts its own simulator; this is for `supabase functions serve` and for poking at it by hand.
 */
import { settingsFromEnv } from "./config.ts";
import { startFalSimulator } from "./server.ts";

if (import.meta.main) {
  const stackPort = Number(Deno.env.get("STACK_PORT") ?? 54321);
  const port = Number(Deno.env.get("FAL_SIM_PORT") ?? stackPort + 2);
  const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  const dataDir = Deno.env.get("FAL_SIM_DATA_DIR") ?? `${root}/.local/fal_sim`;
  const sim = await startFalSimulator({
    port,
    dataDir,
    log: console.log,
    settings: settingsFromEnv(Deno.env),
    hostname: Deno.env.get("FAL_SIM_HOSTNAME") || undefined,
    publicUrl: Deno.env.get("FAL_SIM_PUBLIC_URL") || undefined,
  });
  console.log(`fal simulator: FAL_QUEUE_BASE_URL=${sim.url} FAL_JWKS_URL=${sim.jwksUrl}`);
  console.log(`FAL_MEDIA_HOSTS=${sim.mediaHost}`);
  console.log(`control API (from this machine): http://127.0.0.1:${port}/_sim`);
  console.log(`control token (Authorization: Bearer …): ${sim.controlToken}`);
  Deno.addSignalListener("SIGINT", async () => {
    await sim.stop();
    Deno.exit(0);
  });
}
