/**
 * `POST /object/list-v2/<bucket>` (storage-js `listV2`) as supabase/storage answers it: the
 * request schema of `listObjectsV2.ts`, the paging of `ObjectStorage.listObjectsV2` (limit + 1
 * rows, an opaque base64 cursor `l:<after>\no:<order>\nc:<column>\na:<timestamp>`), and the SQL
 * of `storage.list_objects_with_delimiter` / `search_by_timestamp` ported over the rows the
 * caller may see (RLS already applied), including their seek rules, so pages and edge cases
 * come out as on Supabase. Names compare bytewise (`COLLATE "C"`); keys are ASCII.
 */
import { ERRORS } from "./errors.ts";

/** An object row as the listing queries select it. */
export interface ListRow {
  id: string;
  name: string;
  metadata: Record<string, unknown> | null;
  updated_at: Date | null;
  created_at: Date | null;
  last_accessed_at: Date | null;
}

type SortColumn = "name" | "created_at" | "updated_at";

/** The validated request body. */
export interface ListV2Request {
  prefix?: string;
  limit?: number;
  cursor?: string;
  withDelimiter: boolean;
  sortBy?: { column: SortColumn; order?: "asc" | "desc" };
}

/** A folder or object entry as the answer carries it. */
type Entry = Record<string, unknown> & { name: string; id: string | null };

/** The answer body. */
export interface ListV2Result {
  hasNext: boolean;
  nextCursor?: string;
  nextCursorKey?: string;
  folders: Entry[];
  objects: Entry[];
}

interface Cursor {
  startAfter: string;
  sortOrder?: string;
  sortColumn?: string;
  sortColumnAfter?: string;
}

const CURSOR_PARTS: [string, keyof Cursor][] = [
  ["l", "startAfter"],
  ["o", "sortOrder"],
  ["c", "sortColumn"],
  ["a", "sortColumnAfter"],
];

/** Validates a list-v2 body as Storage's JSON schema does (messages as Fastify words them). */
export function parseListV2Body(body: Record<string, unknown>): ListV2Request {
  const { prefix, limit, cursor, with_delimiter: withDelimiter, sortBy } = body;
  if (prefix !== undefined && typeof prefix !== "string") {
    throw ERRORS.validation("body/prefix must be string");
  }
  if (limit !== undefined) {
    if (typeof limit !== "number" || !Number.isInteger(limit)) {
      throw ERRORS.validation("body/limit must be integer");
    }
    if (limit < 1) throw ERRORS.validation("body/limit must be >= 1");
  }
  if (cursor !== undefined && typeof cursor !== "string") {
    throw ERRORS.validation("body/cursor must be string");
  }
  if (withDelimiter !== undefined && typeof withDelimiter !== "boolean") {
    throw ERRORS.validation("body/with_delimiter must be boolean");
  }
  let sort: ListV2Request["sortBy"];
  if (sortBy !== undefined) {
    if (typeof sortBy !== "object" || sortBy === null) {
      throw ERRORS.validation("body/sortBy must be object");
    }
    const { column, order } = sortBy as { column?: unknown; order?: unknown };
    if (column === undefined) {
      throw ERRORS.validation("body/sortBy must have required property 'column'");
    }
    if (column !== "name" && column !== "updated_at" && column !== "created_at") {
      throw ERRORS.validation("body/sortBy/column must be equal to one of the allowed values");
    }
    if (order !== undefined && order !== "asc" && order !== "desc") {
      throw ERRORS.validation("body/sortBy/order must be equal to one of the allowed values");
    }
    sort = { column, order };
  }
  return { prefix, limit, cursor, withDelimiter: withDelimiter === true, sortBy: sort };
}

function encodeCursor(c: Cursor): string {
  const text = CURSOR_PARTS.filter(([, k]) => c[k]).map(([p, k]) => `${p}:${c[k]}`).join("\n");
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function decodeCursor(token: string): Cursor {
  let text: string;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(token), (ch) => ch.charCodeAt(0)));
  } catch {
    throw ERRORS.invalidParameter("continuation token");
  }
  const cursor: Cursor = { startAfter: "", sortOrder: "asc" };
  for (const part of text.split("\n")) {
    const m = /^(\S):(.*)/.exec(part);
    const key = m ? CURSOR_PARTS.find(([p]) => p === m[1])?.[1] : undefined;
    if (!m || !key) throw ERRORS.invalidParameter("continuation token");
    cursor[key] = m[2]!;
  }
  return cursor;
}

/** `storage.get_common_prefix`: the first `/`-terminated part of `name` after `prefix`. */
function commonPrefix(name: string, prefix: string): string | null {
  const idx = name.slice(prefix.length).indexOf("/");
  return idx >= 0 ? name.slice(0, prefix.length + idx + 1) : null;
}

const rtrimSlash = (s: string) => s.replace(/\/+$/, "");
const bytewise = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const truncMs = (d: Date | null) => (d === null ? null : d.getTime());

interface DbRow {
  key?: string;
  name: string;
  id: string | null;
  updated_at: Date | null;
  created_at: Date | null;
  last_accessed_at: Date | null;
  metadata: Record<string, unknown> | null;
}

const folderRow = (name: string): DbRow => ({
  name,
  id: null,
  updated_at: null,
  created_at: null,
  last_accessed_at: null,
  metadata: null,
});

/** Port of `storage.list_objects_with_delimiter` (name order, skip-scan with its seek rules). */
function byName(rows: ListRow[], prefix: string, maxKeys: number, start: string, asc: boolean) {
  const out: DbRow[] = [];
  const batchSize = Math.min(Math.max(maxKeys * 2, 100), 1000);
  const firstAtOrAfter = (seek: string) => rows.findIndex((r) => r.name >= seek);
  const lastBefore = (seek: string) => rows.findLastIndex((r) => r.name < seek);
  let seek: string;
  if (start === "") {
    if (asc) seek = prefix;
    else {
      const last = rows.at(-1);
      if (!last) return out;
      seek = `${last.name}/`;
    }
  } else {
    const isFolder = rows.some((r) => r.name.startsWith(`${start}/`));
    seek = asc ? (isFolder ? `${start}0` : `${start}/`) : (isFolder ? `${start}/` : start);
  }
  while (out.length < maxKeys) {
    const at = asc ? firstAtOrAfter(seek) : lastBefore(seek);
    if (at < 0) break;
    const folder = commonPrefix(rows[at]!.name, prefix);
    if (folder !== null) {
      out.push(folderRow(rtrimSlash(folder)));
      seek = asc ? `${folder.slice(0, -1)}0` : folder;
      continue;
    }
    for (let n = 0; n < batchSize; n++) {
      const row = rows[asc ? at + n : at - n];
      if (!row) break;
      if (commonPrefix(row.name, prefix) !== null) {
        seek = row.name;
        break;
      }
      out.push({ ...row });
      seek = asc ? `${row.name}/` : row.name;
      if (out.length >= maxKeys) break;
    }
  }
  return out;
}

/** Port of `storage.search_by_timestamp` (folders dated by their oldest object). */
function byTimestamp(
  rows: ListRow[],
  prefix: string,
  maxKeys: number,
  start: string,
  asc: boolean,
  column: "created_at" | "updated_at",
  after: string | undefined,
) {
  const folders = new Map<string, DbRow>();
  const combined: DbRow[] = [];
  for (const row of rows) {
    const folder = commonPrefix(row.name, prefix);
    if (folder === null) {
      combined.push({ ...row });
      continue;
    }
    const seen = folders.get(folder);
    if (!seen) {
      const entry = { ...folderRow(rtrimSlash(folder)), created_at: row.created_at };
      folders.set(folder, entry);
      combined.push(entry);
    } else if (
      row.created_at && (!seen.created_at || row.created_at.getTime() < seen.created_at.getTime())
    ) seen.created_at = row.created_at;
  }
  for (const f of folders.values()) f.updated_at = f.created_at;
  const afterMs = after ? new Date(after).getTime() : 0;
  const sign = asc ? 1 : -1;
  const compareTo = (r: DbRow) => {
    const t = truncMs(r[column]);
    if (t === null) return null;
    return t !== afterMs ? Math.sign(t - afterMs) : bytewise(r.name, start);
  };
  return combined
    .filter((r) => {
      if (start === "") return true;
      const c = compareTo(r);
      return c !== null && c * sign > 0;
    })
    .sort((a, b) =>
      sign * ((truncMs(a[column]) ?? 0) - (truncMs(b[column]) ?? 0) || bytewise(a.name, b.name))
    )
    .slice(0, maxKeys);
}

/** The flat listing (no delimiter): every object under the prefix, by name or a timestamp. */
function flat(
  rows: ListRow[],
  maxKeys: number,
  token: string,
  asc: boolean,
  column: "created_at" | "updated_at" | undefined,
  after: string | undefined,
) {
  const sign = asc ? 1 : -1;
  const afterMs = after ? new Date(after).getTime() : 0;
  return rows
    .filter((r) => {
      if (!token) return true;
      if (column && after) {
        const t = truncMs(r[column]);
        if (t === null) return false;
        return sign * (t !== afterMs ? Math.sign(t - afterMs) : bytewise(r.name, token)) > 0;
      }
      return sign * bytewise(r.name, token) > 0;
    })
    .sort((a, b) =>
      (column ? sign * ((truncMs(a[column]) ?? 0) - (truncMs(b[column]) ?? 0)) : 0) ||
      sign * bytewise(a.name, b.name)
    )
    .slice(0, maxKeys)
    .map((r): DbRow => ({ ...r }));
}

/**
 * Lists one page. `rows` are the caller's visible objects whose names start with the prefix,
 * in bytewise name order.
 */
export function listV2(rows: ListRow[], req: ListV2Request): ListV2Result {
  const limit = Math.min(req.limit || 1000, 1000);
  const prefix = req.prefix || "";
  const cursor = req.cursor ? decodeCursor(req.cursor) : undefined;
  const order = cursor?.sortOrder || req.sortBy?.order;
  const column = (cursor?.sortColumn || req.sortBy?.column) as SortColumn | undefined;
  const after = cursor?.sortColumnAfter;
  const start = cursor?.startAfter ?? "";
  let result: DbRow[];
  if (!req.withDelimiter) {
    const timeColumn = column === "created_at" || column === "updated_at" ? column : undefined;
    result = flat(rows, limit + 1, start, order !== "desc", timeColumn, after);
  } else {
    const asc = (order || "asc").toLowerCase() !== "desc";
    const levels = prefix ? prefix.split("/").length : 1;
    const page = column === "created_at" || column === "updated_at"
      ? byTimestamp(rows, prefix, Math.min(limit + 1, 1500), start, asc, column, after)
      : byName(rows, prefix, Math.min(limit + 1, 1500), start, asc);
    // search_v2's columns: key, name, id, updated_at, created_at, last_accessed_at, metadata.
    result = [];
    let previous = "";
    for (const r of page) {
      let idx = r.name.replace(prefix, "").indexOf("/");
      if (idx >= 0) {
        idx = prefix.length + idx + 1;
        const current = r.name.slice(0, idx);
        if (current === previous) continue;
        previous = current;
        result.push({ id: null, name: current } as DbRow);
        continue;
      }
      result.push({
        key: r.name.split("/")[levels - 1] ?? "",
        name: r.name,
        id: r.id,
        updated_at: r.updated_at,
        created_at: r.created_at,
        last_accessed_at: r.last_accessed_at,
        metadata: r.metadata,
      });
    }
  }
  const hasNext = result.length > limit;
  const count = hasNext ? limit : result.length;
  const folders: Entry[] = [];
  const objects: Entry[] = [];
  for (const r of result.slice(0, count)) {
    const name = r.id === null && !r.name.endsWith("/") ? `${r.name}/` : r.name;
    (r.id === null ? folders : objects).push({ ...r, name } as Entry);
  }
  if (!hasNext) return { hasNext, folders, objects };
  const last = result[count - 1]!;
  const stamp = column && column !== "name" ? last[column] : null;
  return {
    hasNext,
    nextCursor: encodeCursor({
      startAfter: last.name,
      sortOrder: order,
      sortColumn: column,
      sortColumnAfter: stamp ? stamp.toISOString() : undefined,
    }),
    nextCursorKey: last.name,
    folders,
    objects,
  };
}
