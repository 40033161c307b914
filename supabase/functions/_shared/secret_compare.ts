/**
 * Constant-time comparison of a presented shared secret (the reconciler's `x-reconcile-secret`
 * header) with the configured one. Both are hashed first, so the comparison always runs over 32
 * bytes: neither the content nor the length of the expected secret leaks through timing.
 */

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** True when `presented` equals `expected`; a missing or empty value never matches. */
export async function secretsMatch(
  presented: string | null | undefined,
  expected: string | null | undefined,
): Promise<boolean> {
  if (!presented || !expected) return false;
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  let diff = 0;
  // Every byte is visited whatever the differences: no early exit.
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
