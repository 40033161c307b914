/**
 * Go's `time.ParseDuration`, which GoTrue uses for `ban_duration` and config.toml uses for
 * durations such as `[auth.email] max_frequency = "1s"`: same grammar, same error messages (they
 * reach clients inside GoTrue's "invalid format for ban duration: …").
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Thrown with Go's own message for a string `time.ParseDuration` rejects. */
export class DurationError extends Error {}

/** Milliseconds in a Go duration string (`"1h30m"`, `"-5s"`, `"0"`); throws DurationError. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new DurationError(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(\.\d*)?/.exec(rest)!;
    if (num[0] === "" || num[0] === ".") {
      throw new DurationError(`time: invalid duration ${quoted}`);
    }
    rest = rest.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new DurationError(`time: missing unit in duration ${quoted}`);
    const factor = UNITS[unit];
    if (factor === undefined) {
      throw new DurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    }
    rest = rest.slice(unit.length);
    total += Number(num[0]) * factor;
  }
  return sign * total;
}
