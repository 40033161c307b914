/** Request shapes of `admin-queue`: the stats window and the stuck-job actions. */
import { z } from "zod";

/** POST body: re-dispatch or cancel one job. */
export const AdminAction = z.object({
  action: z.enum(["redispatch", "cancel"]),
  id: z.uuid(),
  reason: z.string().trim().min(1).max(200).optional(),
}).strict();
export type AdminAction = z.infer<typeof AdminAction>;

/** Window presets the dashboard offers; any whole number of seconds in range is accepted. */
export const MIN_WINDOW_S = 60;
export const MAX_WINDOW_S = 7 * 86400;
export const DEFAULT_WINDOW_S = 900;

/** `?window=` as seconds (`900`, or with a unit: `15m`, `1h`, `24h`, `7d`); null when invalid. */
export function parseWindow(raw: string | null): number | null {
  if (raw === null || raw === "") return DEFAULT_WINDOW_S;
  const m = /^(\d{1,7})\s*([smhd]?)$/.exec(raw.trim());
  if (!m) return null;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  const seconds = Number(m[1]) * unit;
  return seconds >= MIN_WINDOW_S && seconds <= MAX_WINDOW_S ? seconds : null;
}
