/**
 * A local clock for progress bars and elapsed times: re-renders every `intervalMs` while `active`,
 * and not at all otherwise. It reads `Date.now()` only; no network is involved.
 */
import { useEffect, useState } from "react";

/** The current time (ms), ticking while `active`. */
export function useNow(active: boolean, intervalMs = 500): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return active ? now : Date.now();
}
