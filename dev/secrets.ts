/**
 * Secrets of one dev stack, generated at its first start and kept under its .local folder so
 * restarts keep the same passwords (and, later, the same signing keys and sessions).
 */

export interface StackSecrets {
  superuserPassword: string;
  postgresPassword: string;
  /** Shared by the reconcile timer and the reconcile-jobs function. */
  reconcileSecret: string;
}

function randomToken(bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads `<localDir>/secrets.json`, creating it with fresh random values on first use. */
export async function loadSecrets(localDir: string): Promise<StackSecrets> {
  const path = `${localDir}/secrets.json`;
  try {
    const stored = JSON.parse(await Deno.readTextFile(path)) as Partial<StackSecrets>;
    if (stored.superuserPassword && stored.postgresPassword && stored.reconcileSecret) {
      return stored as StackSecrets;
    }
    // A folder from an older stack: keep its passwords, add what is new.
    const upgraded = { reconcileSecret: randomToken(), ...stored } as StackSecrets;
    await Deno.writeTextFile(path, JSON.stringify(upgraded, null, 2), { mode: 0o600 });
    return upgraded;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const secrets: StackSecrets = {
    superuserPassword: randomToken(),
    postgresPassword: randomToken(),
    reconcileSecret: randomToken(),
  };
  await Deno.mkdir(localDir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
