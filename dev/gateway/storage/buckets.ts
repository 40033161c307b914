/**
 * `/storage/v1/bucket` as supabase/storage answers it (`src/http/routes/bucket/*` and
 * `Storage.createBucket/updateBucket/deleteBucket/emptyBucket`): the same request checks,
 * columns, messages and rights. Reads and writes of `storage.buckets` run as the caller (RLS on
 * buckets decides); emptying deletes every object as Storage's admin job does, once the caller
 * can see the bucket and at least one of its objects.
 */
import type postgres from "postgres";
import { json } from "../http.ts";
import { ERRORS } from "./errors.ts";
import type { AdminJobs } from "./admin_jobs.ts";
import type { ObjectFiles } from "./files.ts";
import { allowedMimeTypes, bucketSizeLimit, isValidBucketName } from "./limits.ts";
import type { AsCaller, BucketRow, Caller } from "./types.ts";

export interface BucketRoutesDeps {
  sql: postgres.Sql;
  asCaller: AsCaller;
  files: ObjectFiles;
  /** The project's upload limit; a bucket's own limit may not exceed it. */
  globalLimit: number;
  /** Where `emptyBucket`'s deletion runs, after the answer (as Storage's admin queue). */
  adminJobs: AdminJobs;
}

/** More objects than this and Storage refuses to empty a bucket (`STORAGE_EMPTY_BUCKET_MAX`). */
const EMPTY_BUCKET_MAX = 200_000;
const LIST_SORT_COLUMNS = ["id", "name", "created_at", "updated_at"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** `GET /bucket/<id>`: Storage selects these columns (no `type`). */
function bucketDetails(b: BucketRow) {
  return {
    id: b.id,
    name: b.name,
    owner: b.owner ?? "",
    public: b.public,
    file_size_limit: b.file_size_limit === null ? null : Number(b.file_size_limit),
    allowed_mime_types: b.allowed_mime_types,
    created_at: b.created_at?.toISOString(),
    updated_at: b.updated_at?.toISOString(),
  };
}

/** `GET /bucket`: the same plus `type`, in the order Storage's schema serialises them. */
function bucketListed(b: BucketRow) {
  const { id, name, owner, public: isPublic, ...rest } = bucketDetails(b);
  return { id, name, owner, public: isPublic, type: b.type, ...rest };
}

function listQuery(url: URL) {
  const q = url.searchParams;
  const int = (name: string, min: number) => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    if (!/^-?\d+$/.test(raw)) throw ERRORS.validation(`querystring/${name} must be integer`);
    const n = Number(raw);
    if (n < min) throw ERRORS.validation(`querystring/${name} must be >= ${min}`);
    return n;
  };
  const oneOf = (name: string, allowed: string[]) => {
    const raw = q.get(name);
    if (raw !== null && !allowed.includes(raw)) {
      throw ERRORS.validation(`querystring/${name} must be equal to one of the allowed values`);
    }
    return raw ?? undefined;
  };
  return {
    limit: int("limit", 1),
    offset: int("offset", 0),
    sortColumn: oneOf("sortColumn", LIST_SORT_COLUMNS),
    sortOrder: oneOf("sortOrder", ["asc", "desc"]),
    search: q.get("search") ?? undefined,
  };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw ERRORS.validation("body must be object");
  }
  return body as Record<string, unknown>;
}

/** Creates the handler for `/bucket…`; `rest` is the part after `/bucket`. */
export function createBucketRoutes(deps: BucketRoutesDeps) {
  const { sql, asCaller, files } = deps;

  const list = async (caller: Caller, url: URL) => {
    const q = listQuery(url);
    const rows = await asCaller(
      caller,
      "bucket.list",
      (tx) =>
        tx<BucketRow[]>`select * from storage.buckets
        ${
          q.search
            ? tx`where name ilike ${`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`
            : tx``
        }
        ${
          q.sortColumn
            ? tx`order by ${tx(q.sortColumn)} ${q.sortOrder === "desc" ? tx`desc` : tx`asc`}`
            : tx``
        }
        ${q.limit !== undefined ? tx`limit ${q.limit}` : tx``}
        ${q.offset !== undefined ? tx`offset ${q.offset}` : tx``}`,
    );
    return json(rows.map(bucketListed));
  };

  const get = async (caller: Caller, id: string) => {
    const [row] = await asCaller(
      caller,
      "bucket.get",
      (tx) => tx<BucketRow[]>`select * from storage.buckets where id = ${id} limit 1`,
    );
    if (!row) throw ERRORS.noSuchBucket();
    return json(bucketDetails(row));
  };

  const create = async (caller: Caller, raw: unknown) => {
    const body = objectBody(raw);
    if (body.name === undefined) throw ERRORS.validation("body must have required property 'name'");
    if (typeof body.name !== "string") throw ERRORS.validation("body/name must be string");
    if (body.id !== undefined && typeof body.id !== "string") {
      throw ERRORS.validation("body/id must be string");
    }
    if (body.public !== undefined && typeof body.public !== "boolean") {
      throw ERRORS.validation("body/public must be boolean");
    }
    if (body.type !== undefined && body.type !== "STANDARD" && body.type !== "ANALYTICS") {
      throw ERRORS.validation("body/type must be equal to one of the allowed values");
    }
    const name = body.name;
    const id = (body.id as string | undefined) || name;
    if (name.trim() !== name || !isValidBucketName(name) || !isValidBucketName(id)) {
      throw ERRORS.invalidBucketName();
    }
    if (body.type === "ANALYTICS") {
      throw ERRORS.featureNotEnabled("Iceberg buckets are not enabled for this tenant");
    }
    const limit = bucketSizeLimit(body.file_size_limit, deps.globalLimit) ?? null;
    const mimes = allowedMimeTypes(body.allowed_mime_types) ?? null;
    const owner = caller.sub && UUID.test(caller.sub) ? caller.sub : null;
    try {
      await asCaller(
        caller,
        "bucket.create",
        (tx) =>
          tx`insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit,
            allowed_mime_types, type)
          values (${id}, ${name}, ${owner}::uuid, ${caller.sub}, ${body.public === true},
            ${limit}, ${mimes}, 'STANDARD')`,
      );
    } catch (e) {
      if ((e as { code?: string }).code === "ResourceAlreadyExists") {
        throw ERRORS.bucketAlreadyExists();
      }
      throw e;
    }
    return json({ name });
  };

  const update = async (caller: Caller, id: string, raw: unknown) => {
    const body = objectBody(raw);
    if (!("public" in body) && !("file_size_limit" in body) && !("allowed_mime_types" in body)) {
      throw ERRORS.validation(
        "body must have required property 'public', body must have required property " +
          "'file_size_limit', body must have required property 'allowed_mime_types', body must " +
          "match a schema in anyOf",
      );
    }
    if (body.public !== undefined && typeof body.public !== "boolean") {
      throw ERRORS.validation("body/public must be boolean");
    }
    if (!isValidBucketName(id)) throw ERRORS.invalidBucketName();
    const isPublic = body.public as boolean | undefined;
    const limit = bucketSizeLimit(body.file_size_limit, deps.globalLimit);
    const mimes = allowedMimeTypes(body.allowed_mime_types);
    if (isPublic === undefined && limit === undefined && mimes === undefined) {
      throw ERRORS.noContentProvided();
    }
    const updated = await asCaller(caller, "bucket.update", (tx) =>
      tx`update storage.buckets set
          public = case when ${isPublic !== undefined} then ${isPublic ?? null}::boolean
            else public end,
          file_size_limit = case when ${limit !== undefined} then ${limit ?? null}::bigint
            else file_size_limit end,
          allowed_mime_types = case when ${mimes !== undefined} then ${mimes ?? null}::text[]
            else allowed_mime_types end
        where id = ${id} returning id`);
    if (updated.length === 0) throw ERRORS.noSuchBucket();
    return json({ message: "Successfully updated" });
  };

  const empty = async (caller: Caller, id: string) => {
    const before = new Date();
    const found = await asCaller(caller, "bucket.empty", async (tx) => {
      const [bucket] = await tx`select name from storage.buckets where id = ${id} limit 1`;
      if (!bucket) throw ERRORS.noSuchBucket();
      const counted = await tx`select 1 from storage.objects where bucket_id = ${id}
        limit ${EMPTY_BUCKET_MAX + 1}`;
      if (counted.length > EMPTY_BUCKET_MAX) throw ERRORS.unableToEmptyBucket();
      return await tx`select id from storage.objects
        where bucket_id = ${id} and created_at < ${before} limit 1`;
    });
    if (found.length > 0) {
      // Storage queues an admin job for this, so the objects stay for a while after the answer.
      // As that job does: its delete is allowed past the SQL delete guard.
      deps.adminJobs.enqueue(`empty ${id}`, async () => {
        const deleted = await sql.begin(async (tx) => {
          await tx`select set_config('storage.allow_delete_query', 'true', true)`;
          return await tx<{ name: string }[]>`delete from storage.objects
            where bucket_id = ${id} and created_at < ${before} returning name`;
        });
        for (const row of deleted) await files.remove(id, row.name);
      });
    }
    return json({ message: "Empty bucket has been queued. Completion may take up to an hour." });
  };

  const remove = async (caller: Caller, id: string) => {
    const [bucket] = await sql`select id from storage.buckets where id = ${id} limit 1`;
    if (!bucket) throw ERRORS.noSuchBucket();
    const [object] = await sql`select 1 from storage.objects where bucket_id = ${id} limit 1`;
    if (object) throw ERRORS.bucketNotEmpty();
    const deleted = await asCaller(
      caller,
      "bucket.delete",
      (tx) => tx`delete from storage.buckets where id = ${id} returning id`,
    );
    if (deleted.length === 0) throw ERRORS.noSuchBucket();
    await files.removeBucket(id);
    return json({ message: "Successfully deleted" });
  };

  /** Answers `/bucket…`, or null for a route Storage does not have. */
  return async function handleBuckets(
    req: Request,
    caller: Caller,
    rest: string,
    url: URL,
    readBody: () => Promise<unknown>,
  ): Promise<Response | null> {
    const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts.length > 2) return null;
    const [id, action] = parts;
    const m = req.method;
    if (!id) {
      if (m === "GET") return await list(caller, url);
      if (m === "POST") return await create(caller, await readBody());
      return null;
    }
    if (action === undefined) {
      if (m === "GET") return await get(caller, id);
      if (m === "PUT") return await update(caller, id, await readBody());
      if (m === "DELETE") return await remove(caller, id);
      return null;
    }
    if (action === "empty" && m === "POST") return await empty(caller, id);
    return null;
  };
}
