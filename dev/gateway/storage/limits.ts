/**
 * What Storage accepts as names, size limits and MIME rules, written after supabase/storage's
 * `src/storage/limits.ts` and its request schemas: object keys and bucket names from an
 * S3-safe character set, bucket size limits as bytes or decimal units (`"20MB"` is 20 000 000;
 * config.toml's binary units are the CLI's business, see project_config.ts).
 */
import { ERRORS } from "./errors.ts";

// Hyphen last so it stays a literal (Storage's own character sets).
const VALID_OBJECT_KEY = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
const VALID_BUCKET_NAME = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$/;
const SIZE_WITH_UNIT = /^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$/i;
const FILE_SIZE_PATTERN = "^[0-9]+(?:\\.[0-9]+)?(?:[gG][bB]|[mM][bB]|[kK][bB]|[bB])$";
const MIME_RULE = /^([a-zA-Z0-9\-+.]+)\/([a-zA-Z0-9\-+.]+)(;\s*charset=[a-zA-Z0-9\-]+)?$|\*$/;

/**
 * True when Storage accepts `key` as an object name. On top of Storage's character set the
 * stack refuses empty, `.` and `..` segments and a leading `/`, because objects live on disk.
 */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024 || !VALID_OBJECT_KEY.test(key)) return false;
  return !key.startsWith("/") && key.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** True when Storage accepts `name` as a bucket name (1–100 characters, no `/`). */
export function isValidBucketName(name: string): boolean {
  return name.length > 0 && name.length < 101 && VALID_BUCKET_NAME.test(name) &&
    name !== "." && name !== "..";
}

/**
 * Storage's `parseFileSizeToBytes`: decimal units, the number kept to three significant digits
 * (so `"20mb"` is 20 000 000 and `"1234MB"` is 1 230 000 000).
 */
export function parseFileSizeToBytes(text: string): number {
  const m = SIZE_WITH_UNIT.exec(text);
  if (!m) throw ERRORS.invalidFileSizeLimit();
  const value = +parseFloat(m[1]!).toPrecision(3);
  const unit = m[2]!.toUpperCase();
  return unit === "GB"
    ? value * 1e9
    : unit === "MB"
    ? value * 1e6
    : unit === "KB"
    ? value * 1000
    : value;
}

/**
 * Reads a bucket's `file_size_limit` from a request body as Storage's schema does (a whole
 * number ≥ 0, a size string, or null) and returns bytes; `undefined` when the field is absent.
 * `globalLimit` is the project's upload limit, which a bucket may not exceed.
 */
export function bucketSizeLimit(value: unknown, globalLimit: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  let bytes: number;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) bytes = value;
  else if (typeof value === "string" && new RegExp(FILE_SIZE_PATTERN).test(value)) {
    bytes = parseFileSizeToBytes(value);
  } else {
    const field = "body/file_size_limit";
    const typeProblem = typeof value === "number" && Number.isInteger(value)
      ? `${field} must be >= 0`
      : `${field} must be integer`;
    throw ERRORS.validation(
      `${typeProblem}, ${field} must match pattern "${FILE_SIZE_PATTERN}", ` +
        `${field} must match a schema in anyOf`,
    );
  }
  if (bytes > globalLimit) throw ERRORS.entityTooLarge();
  return bytes;
}

/** Reads `allowed_mime_types` (array of rules, null, or absent) and checks each rule. */
export function allowedMimeTypes(value: unknown): string[] | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (!Array.isArray(value)) throw ERRORS.validation("body/allowed_mime_types must be array");
  const rules = value.filter((v) => v);
  for (const [i, rule] of rules.entries()) {
    if (typeof rule !== "string") {
      throw ERRORS.validation(`body/allowed_mime_types/${i} must be string`);
    }
    if (rule.length > 1000 || !MIME_RULE.test(rule)) throw ERRORS.invalidMimeType(rule);
  }
  return rules as string[];
}

/**
 * Storage's upload check against a bucket's rules: `type/subtype` compared as written (case and
 * parameters included, so `text/plain;charset=UTF-8` does not match `text/plain`), `type/*`
 * matching any subtype. No rules: everything is allowed; folder placeholders are never checked.
 */
export function mimeAllowed(mime: string, allowed: string[] | null, objectName: string): boolean {
  if (!allowed || allowed.length === 0 || objectName.endsWith(".emptyFolderPlaceholder")) {
    return true;
  }
  const [type, subtype] = mime.split("/");
  if (subtype === undefined) return false;
  return allowed.some((rule) => {
    const [ruleType, ruleSubtype] = rule.split("/");
    return ruleType === type && (ruleSubtype === "*" || ruleSubtype === subtype);
  });
}
