/**
 * Secrets of one dev stack, generated at its first start and kept under its .local folder so
 * restarts keep the same passwords (and, later, the same signing keys and sessions).
 */

export interface StackSecrets {
  superuserPassword: string;
  postgresPassword: string;
}

function randomToken(bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads `<localDir>/secrets.json`, creating it with fresh random values on first use. */
export async function loadSecrets(localDir: string): Promise<StackSecrets> {
  const path = `${localDir}/secrets.json`;
  try {
    return JSON.parse(await Deno.readTextFile(path)) as StackSecrets;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const secrets: StackSecrets = {
    superuserPassword: randomToken(),
    postgresPassword: randomToken(),
  };
  await Deno.mkdir(localDir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
