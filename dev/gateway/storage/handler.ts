/**
 * `/storage/v1`: the Storage API as storage-js 2.x calls it — upload (POST, PUT, `x-upsert`,
 * raw or multipart bodies), download (authenticated, public, signed), HEAD/info, signed URLs
 * (single, batch, upload), list (list-v2 in list_v2.ts), remove, move, copy; the bucket endpoints
 * (buckets.ts) and image rendering (render.ts) are wired in here. Metadata lives in
 * `storage.objects`; every query about objects runs as the caller's role with its JWT claims so
 * the project's RLS policies decide (the service role bypasses RLS); bytes live on disk. Bucket
 * size and MIME limits are enforced; signed URLs are HS256 JWTs over `<bucket>/<name>`.
 */
import type postgres from "postgres";
import { apiKey, bearerToken, json } from "../http.ts";
import type { StackKeys } from "../keys.ts";
import { createAdminJobs } from "./admin_jobs.ts";
import { createBucketRoutes } from "./buckets.ts";
import { ERRORS, fromDbError, statusOf, StorageError, storageErrorResponse } from "./errors.ts";
import { createObjectFiles, type StoredTemp, TooLargeError } from "./files.ts";
import { isValidBucketName, isValidKey, mimeAllowed } from "./limits.ts";
import { type ListRow, listV2, parseListV2Body } from "./list_v2.ts";
import { BodyTooLargeError, boundaryOf, parseMultipart, readBounded } from "./multipart.ts";
import { createRenderRoutes } from "./render.ts";
import { hasTransform, parseTransform, transformationSegments } from "./transform.ts";
import type { BucketRow, Caller, ObjectRow, Tx } from "./types.ts";

export interface StorageDeps {
  /** A pool connected as the cluster's superuser (it switches to the caller's role per query). */
  sql: postgres.Sql;
  keys: StackKeys;
  storageDir: string;
  /** Global upload limit (config.toml `[storage] file_size_limit`). */
  fileSizeLimit: number;
  /** `[storage.image_transformation] enabled`: render images, or refuse as hosted does. */
  imageTransformation: boolean;
  log: (line: string) => void;
  /** How long after its answer `emptyBucket` deletes the objects (default 2 s). */
  emptyBucketDelayMs?: number;
}

/** Storage admin jobs run after this by default: long enough that "right after" sees them pending. */
const EMPTY_BUCKET_DELAY_MS = 2000;

const OBJECT_COLUMNS = `id, bucket_id, name, owner, owner_id, metadata, user_metadata, version,
  created_at, updated_at, last_accessed_at`;

function fileObject(row: ObjectRow) {
  return {
    name: row.name,
    id: row.id,
    updated_at: row.updated_at?.toISOString() ?? null,
    created_at: row.created_at?.toISOString() ?? null,
    last_accessed_at: row.last_accessed_at?.toISOString() ?? null,
    metadata: row.metadata,
  };
}

/** A JSON body as Fastify parses it: empty is `{}`, anything else must be valid JSON. */
async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw ERRORS.validation("Body is not valid JSON but content-type is set to 'application/json'");
  }
}

async function readBody(req: Request): Promise<Record<string, unknown>> {
  try {
    const body = await req.json();
    return typeof body === "object" && body !== null ? body : {};
  } catch {
    return {};
  }
}

/** Creates the `/storage/v1` handler; `path` is the part after `/storage/v1`. */
export function createStorageHandler(deps: StorageDeps) {
  const files = createObjectFiles(deps.storageDir);
  const { sql } = deps;

  const callerOf = async (req: Request, url: URL): Promise<Caller> => {
    const token = bearerToken(req) ?? apiKey(req, url);
    if (!token) throw ERRORS.invalidJwt("headers must have required property 'authorization'");
    const claims = await deps.keys.verifyToken(token);
    if (!claims) throw ERRORS.accessDenied("invalid signature");
    const role = claims.role;
    if (role !== "anon" && role !== "authenticated" && role !== "service_role") {
      throw ERRORS.accessDenied(`role ${String(role)} is not allowed`);
    }
    return { role, claims, sub: typeof claims.sub === "string" ? claims.sub : null };
  };

  /** Runs `fn` in a transaction as the caller (role + claims), as PostgREST and Storage do. */
  const asCaller = async <T>(
    caller: Caller,
    operation: string,
    fn: (tx: Tx) => Promise<T>,
  ): Promise<T> => {
    try {
      return await sql.begin(async (tx) => {
        await tx`select set_config('role', ${caller.role}, true),
          set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
          set_config('request.jwt.claim.sub', ${caller.sub ?? ""}, true),
          set_config('request.jwt.claim.role', ${caller.role}, true),
          set_config('storage.operation', ${operation}, true),
          set_config('storage.allow_delete_query', 'true', true)`;
        return await fn(tx);
      }) as T;
    } catch (e) {
      throw fromDbError(e) ?? e;
    }
  };

  const bucketById = async (id: string): Promise<BucketRow> => {
    if (!isValidBucketName(id)) throw ERRORS.noSuchBucket();
    const [row] = await sql<BucketRow[]>`select * from storage.buckets where id = ${id}`;
    if (!row) throw ERRORS.noSuchBucket();
    return row;
  };

  /** Splits `<bucket>/<name…>` (URL-encoded segments) into its parts. */
  const splitPath = (rest: string): { bucket: string; name: string } => {
    const parts = rest.split("/").filter((p, i) => i === 0 || p !== "");
    let decoded: string[];
    try {
      decoded = parts.map(decodeURIComponent);
    } catch {
      throw ERRORS.invalidKey(rest);
    }
    const [bucket, ...nameParts] = decoded;
    const name = nameParts.join("/");
    if (!bucket) throw ERRORS.noSuchBucket();
    if (!isValidKey(name)) throw ERRORS.invalidKey(name);
    return { bucket, name };
  };

  const visibleObject = async (caller: Caller, bucket: string, name: string) => {
    const rows = await asCaller(caller, "object.get", (tx) =>
      tx.unsafe<ObjectRow[]>(
        `select ${OBJECT_COLUMNS} from storage.objects where bucket_id = $1 and name = $2`,
        [bucket, name],
      ));
    if (!rows[0]) throw ERRORS.noSuchKey();
    return rows[0];
  };

  /** Reads the upload body: raw stream or the first file of a multipart form. */
  const uploadBody = async (req: Request, limit: number) => {
    const type = req.headers.get("content-type") ?? "";
    const declared = Number(req.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > limit && !type.startsWith("multipart/form-data")) {
      throw ERRORS.entityTooLarge();
    }
    let mime: string;
    let cacheControl: string;
    let userMetadata: Record<string, unknown> | null = null;
    let stream: ReadableStream<Uint8Array> | null;
    if (type.startsWith("multipart/form-data")) {
      const boundary = boundaryOf(type);
      if (!boundary) throw ERRORS.invalidParameter("content-type", "No content provided");
      let raw: Uint8Array;
      try {
        // Form fields add a little to the file itself; anything far larger is refused unread.
        raw = await readBounded(req.body, limit + 64 * 1024);
      } catch (e) {
        if (e instanceof BodyTooLargeError) throw ERRORS.entityTooLarge();
        throw e;
      }
      const parts = parseMultipart(raw, boundary);
      const file = parts.find((p) => p.filename !== null) ?? null;
      if (!file) throw ERRORS.invalidParameter("file", "No content provided");
      const field = (n: string) => {
        const p = parts.find((x) => x.filename === null && x.name === n);
        return p ? new TextDecoder().decode(p.data) : null;
      };
      mime = file.contentType || "text/plain;charset=UTF-8";
      const cc = field("cacheControl");
      cacheControl = cc ? `max-age=${cc}` : "no-cache";
      const meta = field("metadata");
      if (meta) {
        try {
          userMetadata = JSON.parse(meta);
        } catch {
          throw ERRORS.invalidParameter("metadata");
        }
      }
      const data = file.data;
      stream = new ReadableStream({
        start(ctl) {
          ctl.enqueue(data);
          ctl.close();
        },
      });
    } else {
      mime = type || "text/plain;charset=UTF-8";
      cacheControl = req.headers.get("cache-control") ?? "no-cache";
      const meta = req.headers.get("x-metadata");
      if (meta) {
        try {
          userMetadata = JSON.parse(atob(meta));
        } catch {
          throw ERRORS.invalidParameter("x-metadata");
        }
      }
      stream = req.body;
    }
    return { mime, cacheControl, userMetadata, stream };
  };

  const storeTemp = async (stream: ReadableStream<Uint8Array> | null, limit: number) => {
    try {
      return await files.writeTemp(stream, limit);
    } catch (e) {
      if (e instanceof TooLargeError) throw ERRORS.entityTooLarge();
      throw e;
    }
  };

  /** Inserts or upserts the object row, then puts the bytes in place, in one transaction. */
  const saveObject = async (input: {
    caller: Caller;
    asSuperuser?: boolean;
    owner: string | null;
    bucket: string;
    name: string;
    upsert: boolean;
    temp: StoredTemp;
    mime: string;
    cacheControl: string;
    userMetadata: Record<string, unknown> | null;
  }) => {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    const metadata = {
      eTag: input.temp.etag,
      size: input.temp.size,
      mimetype: input.mime,
      cacheControl: input.cacheControl,
      lastModified: now,
      contentLength: input.temp.size,
      httpStatusCode: 200,
    };
    const write = async (tx: Tx | postgres.Sql) => {
      const params = [
        id,
        input.bucket,
        input.name,
        input.owner,
        tx.json(metadata),
        input.userMetadata === null ? null : tx.json(input.userMetadata as postgres.JSONValue),
        crypto.randomUUID(),
      ];
      // No RETURNING: on Supabase a plain upload needs only an INSERT policy, not SELECT.
      const insert = `insert into storage.objects
          (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
        values ($1, $2, $3, $4::uuid, $4::text, $5::jsonb, $6::jsonb, $7)`;
      if (input.upsert) {
        await tx.unsafe(
          `${insert} on conflict (bucket_id, name) do update set
             owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata,
             user_metadata = excluded.user_metadata, version = excluded.version,
             updated_at = now(), last_accessed_at = now()`,
          params,
        );
      } else {
        await tx.unsafe(insert, params);
      }
      await files.place(input.temp.path, input.bucket, input.name);
    };
    try {
      if (input.asSuperuser) {
        await sql.begin((tx) => write(tx)).catch((e) => {
          throw fromDbError(e) ?? e;
        });
      } else {
        await asCaller(input.caller, input.upsert ? "object.upsert" : "object.insert", write);
      }
    } catch (e) {
      await files.discard(input.temp.path);
      throw e;
    }
    // An upsert keeps the row's id; report the id the table holds.
    const [row] = await sql<{ id: string }[]>`select id from storage.objects
      where bucket_id = ${input.bucket} and name = ${input.name}`;
    return { Id: row?.id ?? id, Key: `${input.bucket}/${input.name}` };
  };

  const upload = async (req: Request, url: URL, rest: string, method: "POST" | "PUT") => {
    const caller = await callerOf(req, url);
    const { bucket: bucketId, name } = splitPath(rest);
    const bucket = await bucketById(bucketId);
    const limit = Math.min(
      deps.fileSizeLimit,
      bucket.file_size_limit === null ? Infinity : Number(bucket.file_size_limit),
    );
    const body = await uploadBody(req, limit);
    if (!mimeAllowed(body.mime, bucket.allowed_mime_types, name)) {
      throw ERRORS.invalidMimeType(body.mime);
    }
    const temp = await storeTemp(body.stream, limit);
    const upsert = method === "PUT" || req.headers.get("x-upsert") === "true";
    return json(
      await saveObject({
        caller,
        owner: caller.sub,
        bucket: bucketId,
        name,
        upsert,
        temp,
        ...body,
      }),
    );
  };

  /** Streams an object's bytes with Storage's headers (single byte ranges supported). */
  const sendObject = async (
    req: Request,
    row: ObjectRow,
    download: string | null,
  ): Promise<Response> => {
    const file = await files.open(row.bucket_id, row.name);
    if (!file) throw ERRORS.noSuchKey();
    const size = (await file.stat()).size;
    const meta = row.metadata ?? {};
    const headers = new Headers({
      "content-type": String(meta.mimetype ?? "application/octet-stream"),
      "cache-control": String(meta.cacheControl ?? "no-cache"),
      "accept-ranges": "bytes",
      "last-modified": new Date(String(meta.lastModified ?? row.updated_at ?? Date.now()))
        .toUTCString(),
    });
    if (meta.eTag) headers.set("etag", String(meta.eTag));
    if (download !== null) {
      const filename = download || row.name.split("/").pop()!;
      headers.set("content-disposition", `attachment; filename=${encodeURIComponent(filename)}`);
    }
    if (req.method === "HEAD") {
      file.close();
      headers.set("content-length", String(size));
      return new Response(null, { status: 200, headers });
    }
    const range = req.headers.get("range");
    const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
    if (range && m && (m[1] || m[2])) {
      let start = m[1] ? Number(m[1]) : Math.max(size - Number(m[2]), 0);
      let end = m[1] && m[2] ? Number(m[2]) : size - 1;
      if (start >= size || start > end) {
        file.close();
        headers.set("content-range", `bytes */${size}`);
        return new Response(null, { status: 416, headers });
      }
      end = Math.min(end, size - 1);
      await file.seek(start, Deno.SeekMode.Start);
      let remaining = end - start + 1;
      const body = file.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            if (remaining <= 0) return;
            const part = chunk.subarray(0, remaining);
            remaining -= part.byteLength;
            ctl.enqueue(part);
            if (remaining <= 0) ctl.terminate();
          },
        }),
      );
      start = Math.max(start, 0);
      headers.set("content-range", `bytes ${start}-${end}/${size}`);
      headers.set("content-length", String(end - start + 1));
      return new Response(body, { status: 206, headers });
    }
    headers.set("content-length", String(size));
    return new Response(file.readable, { status: 200, headers });
  };

  const superuserObject = async (bucket: string, name: string) => {
    const rows = await sql.unsafe<ObjectRow[]>(
      `select ${OBJECT_COLUMNS} from storage.objects where bucket_id = $1 and name = $2`,
      [bucket, name],
    );
    if (!rows[0]) throw ERRORS.noSuchKey();
    return rows[0];
  };

  const expiresInOf = (body: Record<string, unknown>) => {
    const v = Number(body.expiresIn);
    if (!Number.isFinite(v) || v < 1) throw ERRORS.invalidParameter("expiresIn");
    return Math.floor(v);
  };

  /** A download URL's path; with `transformations` it opens the render route instead. */
  const signFor = async (
    bucket: string,
    name: string,
    expiresIn: number,
    transformations = "",
  ) => {
    const iat = Math.floor(Date.now() / 1000);
    const token = await deps.keys.signWithSecret({
      url: `${bucket}/${name}`,
      iat,
      exp: iat + expiresIn,
      ...(transformations ? { transformations } : {}),
    });
    const route = transformations ? "render/image" : "object";
    return `/${route}/sign/${bucket}/${name}?token=${token}`;
  };

  const verifySigned = async (token: string | null, expectedUrl: string) => {
    if (!token) throw ERRORS.invalidJwt("querystring must have required property 'token'");
    const claims = await deps.keys.verifyWithSecret(token);
    if (!claims) throw ERRORS.invalidJwt("invalid signature or expired token");
    if (claims.url !== expectedUrl) throw ERRORS.invalidSignature();
    return claims;
  };

  const list = async (caller: Caller, bucketId: string, body: Record<string, unknown>) => {
    // Storage lists without looking the bucket up: a missing bucket has no objects.
    if (!isValidBucketName(bucketId)) throw ERRORS.invalidBucketName();
    let prefix = typeof body.prefix === "string" ? body.prefix.replace(/^\/+/, "") : "";
    if (prefix && !prefix.endsWith("/")) prefix += "/";
    const search = typeof body.search === "string" ? body.search.toLowerCase() : "";
    const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), 1000);
    const offset = Math.max(Number(body.offset ?? 0) || 0, 0);
    const sortBy = (body.sortBy ?? {}) as { column?: string; order?: string };
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await asCaller(caller, "object.list", (tx) =>
      tx.unsafe<ObjectRow[]>(
        `select ${OBJECT_COLUMNS} from storage.objects
         where bucket_id = $1 and name like $2 order by name`,
        [bucketId, `${escaped}%`],
      ));
    const entries = new Map<string, ReturnType<typeof fileObject>>();
    for (const row of rows) {
      const rest = row.name.slice(prefix.length);
      const slash = rest.indexOf("/");
      const entryName = slash >= 0 ? rest.slice(0, slash) : rest;
      if (search && !entryName.toLowerCase().startsWith(search)) continue;
      if (slash >= 0) {
        if (!entries.has(entryName)) {
          entries.set(entryName, {
            name: entryName,
            id: null as unknown as string,
            updated_at: null,
            created_at: null,
            last_accessed_at: null,
            metadata: null,
          });
        }
      } else {
        entries.set(entryName, { ...fileObject(row), name: entryName });
      }
    }
    const column = ["name", "created_at", "updated_at", "last_accessed_at"].includes(
        sortBy.column ?? "",
      )
      ? sortBy.column as "name" | "created_at" | "updated_at" | "last_accessed_at"
      : "name";
    const desc = sortBy.order === "desc";
    const sorted = [...entries.values()].sort((a, b) => {
      const av = a[column] ?? "";
      const bv = b[column] ?? "";
      return (av < bv ? -1 : av > bv ? 1 : 0) * (desc ? -1 : 1);
    });
    return sorted.slice(offset, offset + limit);
  };

  const removeMany = async (caller: Caller, bucketId: string, prefixes: unknown) => {
    await bucketById(bucketId);
    if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== "string")) {
      throw ERRORS.missingParameter("prefixes");
    }
    const names = (prefixes as string[]).map((p) => p.replace(/^\/+/, ""));
    const deleted = await asCaller(caller, "object.delete", (tx) =>
      tx.unsafe<ObjectRow[]>(
        `delete from storage.objects where bucket_id = $1 and name = any($2::text[])
         returning ${OBJECT_COLUMNS}`,
        [bucketId, names],
      ));
    for (const row of deleted) await files.remove(bucketId, row.name);
    return deleted.map((row) => ({
      ...fileObject(row),
      bucket_id: row.bucket_id,
      owner: row.owner,
    }));
  };

  const moveOrCopy = async (caller: Caller, body: Record<string, unknown>, copy: boolean) => {
    const bucketId = body.bucketId;
    const source = body.sourceKey;
    const dest = body.destinationKey;
    if (typeof bucketId !== "string") throw ERRORS.missingParameter("bucketId");
    if (typeof source !== "string") throw ERRORS.missingParameter("sourceKey");
    if (typeof dest !== "string") throw ERRORS.missingParameter("destinationKey");
    const destBucket = typeof body.destinationBucket === "string"
      ? body.destinationBucket
      : bucketId;
    if (!isValidKey(dest)) throw ERRORS.invalidKey(dest);
    await bucketById(bucketId);
    await bucketById(destBucket);
    if (copy) {
      const src = await visibleObject(caller, bucketId, source);
      const id = crypto.randomUUID();
      await asCaller(caller, "object.copy", async (tx) => {
        await tx.unsafe(
          `insert into storage.objects
             (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
           values ($1, $2, $3, $4::uuid, $4::text, $5::jsonb, $6::jsonb, $7)`,
          [
            id,
            destBucket,
            dest,
            caller.sub,
            src.metadata === null ? null : tx.json(src.metadata as postgres.JSONValue),
            src.user_metadata === null ? null : tx.json(src.user_metadata as postgres.JSONValue),
            crypto.randomUUID(),
          ],
        );
        await files.copy(bucketId, source, destBucket, dest);
      });
      return json({ Id: id, Key: `${destBucket}/${dest}` });
    }
    await asCaller(caller, "object.move", async (tx) => {
      const moved = await tx.unsafe(
        `update storage.objects set bucket_id = $3, name = $4, updated_at = now()
         where bucket_id = $1 and name = $2 returning id`,
        [bucketId, source, destBucket, dest],
      );
      if (moved.length === 0) throw ERRORS.noSuchKey();
      await files.move(bucketId, source, destBucket, dest);
    });
    return json({ message: "Successfully moved" });
  };

  const renderRoutes = createRenderRoutes({
    enabled: deps.imageTransformation,
    files,
    callerOf,
    splitPath,
    bucketPublic: async (id) => {
      if (!isValidBucketName(id)) return null;
      const [row] = await sql<{ public: boolean }[]>`select public from storage.buckets
        where id = ${id}`;
      return row ? row.public : null;
    },
    visibleObject,
    superuserObject,
    verifySigned,
  });

  const adminJobs = createAdminJobs({
    delayMs: deps.emptyBucketDelayMs ?? EMPTY_BUCKET_DELAY_MS,
    log: deps.log,
  });
  const bucketRoutes = createBucketRoutes({
    sql,
    asCaller,
    files,
    globalLimit: deps.fileSizeLimit,
    adminJobs,
  });

  /**
   * `GET /object/info[/public|/authenticated]/<bucket>/<name>` as Storage's InfoRenderer answers
   * it. Objects of a public bucket are read without RLS; private ones as the caller.
   */
  const info = async (req: Request, url: URL, tail: string): Promise<Response> => {
    const publicRoute = tail.startsWith("public/");
    const { bucket: bucketId, name } = splitPath(tail.replace(/^(public|authenticated)\//, ""));
    // `/info/<bucket>/…` accepts a missing or invalid token: then only public buckets answer.
    const caller = publicRoute
      ? null
      : tail.startsWith("authenticated/")
      ? await callerOf(req, url)
      : await callerOf(req, url).catch(() => null);
    const [bucket] = isValidBucketName(bucketId)
      ? await sql<{ public: boolean }[]>`select public from storage.buckets where id = ${bucketId}`
      : [];
    if (!bucket || (!caller && !bucket.public)) throw ERRORS.noSuchBucket();
    const row = bucket.public || !caller
      ? await superuserObject(bucketId, name)
      : await visibleObject(caller, bucketId, name);
    const meta = row.metadata ?? {};
    const headers = new Headers({ "cache-control": String(meta.cacheControl ?? "no-cache") });
    if (meta.eTag) headers.set("etag", String(meta.eTag));
    if (meta.lastModified) {
      headers.set("last-modified", new Date(String(meta.lastModified)).toUTCString());
    }
    return json(
      {
        id: row.id,
        name: row.name,
        version: row.version,
        bucket_id: row.bucket_id,
        size: meta.size ?? null,
        content_type: meta.mimetype ?? null,
        cache_control: meta.cacheControl ?? null,
        etag: meta.eTag ?? null,
        metadata: row.user_metadata,
        last_modified: row.updated_at?.toISOString() ?? null,
        created_at: row.created_at?.toISOString() ?? null,
      },
      Number(meta.httpStatusCode ?? 200),
      headers,
    );
  };

  /** `POST /object/list-v2/<bucket>`: no bucket check, as on Storage (a missing one is empty). */
  const listObjectsV2 = async (req: Request, url: URL, bucketId: string): Promise<Response> => {
    const caller = await callerOf(req, url);
    if (!isValidBucketName(bucketId)) throw ERRORS.invalidBucketName();
    const body = parseListV2Body(await readJson(req) as Record<string, unknown>);
    const rows = await asCaller(
      caller,
      "object.list_v2",
      (tx) =>
        tx<ListRow[]>`select id, name, metadata, updated_at, created_at, last_accessed_at
        from storage.objects
        where bucket_id = ${bucketId} and starts_with(name, ${body.prefix ?? ""})
        order by name collate "C"`,
    );
    return json(listV2(rows, body));
  };

  const objects = async (req: Request, url: URL, rest: string): Promise<Response | null> => {
    const m = req.method;
    // /object/<kind>/… routes first, then /object/<bucket>/<name>.
    const [first, ...tailParts] = rest.split("/");
    const tail = tailParts.join("/");
    if (m === "POST" && rest === "move") {
      return await moveOrCopy(await callerOf(req, url), await readBody(req), false);
    }
    if (m === "POST" && rest === "copy") {
      return await moveOrCopy(await callerOf(req, url), await readBody(req), true);
    }
    if (m === "POST" && first === "list-v2" && tailParts.length === 1) {
      return await listObjectsV2(req, url, decodeURIComponent(tail));
    }
    if (m === "POST" && first === "list") {
      const caller = await callerOf(req, url);
      return json(await list(caller, decodeURIComponent(tail), await readBody(req)));
    }
    if (first === "public" && (m === "GET" || m === "HEAD")) {
      const { bucket, name } = splitPath(tail);
      const b = await bucketById(bucket);
      if (!b.public) throw ERRORS.noSuchBucket();
      return await sendObject(
        req,
        await superuserObject(bucket, name),
        url.searchParams.get("download"),
      );
    }
    if (first === "authenticated" && (m === "GET" || m === "HEAD")) {
      const caller = await callerOf(req, url);
      const { bucket, name } = splitPath(tail);
      return await sendObject(
        req,
        await visibleObject(caller, bucket, name),
        url.searchParams.get("download"),
      );
    }
    if (first === "info" && m === "GET") return await info(req, url, tail);
    if (first === "sign" && m === "POST") {
      const caller = await callerOf(req, url);
      const body = await readBody(req);
      const expiresIn = expiresInOf(body);
      if (!tail.includes("/")) {
        const bucket = decodeURIComponent(tail);
        await bucketById(bucket);
        if (!Array.isArray(body.paths)) throw ERRORS.missingParameter("paths");
        const paths = body.paths.map(String);
        const rows = await asCaller(caller, "object.sign", (tx) =>
          tx.unsafe<{ name: string }[]>(
            `select name from storage.objects where bucket_id = $1 and name = any($2::text[])`,
            [bucket, paths],
          ));
        const visible = new Set(rows.map((r) => r.name));
        return json(
          await Promise.all(
            paths.map(async (path) =>
              visible.has(path)
                ? { error: null, path, signedURL: await signFor(bucket, path, expiresIn) }
                : {
                  error: "Either the object does not exist or you do not have access to it",
                  path,
                  signedURL: null,
                }
            ),
          ),
        );
      }
      const { bucket, name } = splitPath(tail);
      const transform = body.transform === undefined
        ? {}
        : parseTransform(body.transform as Record<string, unknown>, "body/transform");
      await bucketById(bucket);
      await visibleObject(caller, bucket, name);
      // Without the feature Storage ignores `transform` and signs a plain download URL.
      const transformations = deps.imageTransformation && hasTransform(transform)
        ? transformationSegments(transform, true).join(",")
        : "";
      return json({ signedURL: await signFor(bucket, name, expiresIn, transformations) });
    }
    if (first === "sign" && (m === "GET" || m === "HEAD")) {
      const { bucket, name } = splitPath(tail);
      await verifySigned(url.searchParams.get("token"), `${bucket}/${name}`);
      return await sendObject(
        req,
        await superuserObject(bucket, name),
        url.searchParams.get("download"),
      );
    }
    if (first === "upload" && tailParts[0] === "sign") {
      const { bucket, name } = splitPath(tailParts.slice(1).join("/"));
      const b = await bucketById(bucket);
      if (m === "POST") {
        const caller = await callerOf(req, url);
        const upsert = req.headers.get("x-upsert") === "true";
        // Storage checks the caller may write there now; the later upload needs only the token.
        await asCaller(caller, "object.upload_sign", async (tx) => {
          await tx.unsafe(
            `insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
             values ($1, $2, $3::uuid, $3::text, '{}'::jsonb)
             ${upsert ? "on conflict (bucket_id, name) do update set updated_at = now()" : ""}`,
            [bucket, name, caller.sub],
          );
          throw new RollbackSignal();
        }).catch((e) => {
          if (!(e instanceof RollbackSignal)) throw e;
        });
        const iat = Math.floor(Date.now() / 1000);
        const token = await deps.keys.signWithSecret({
          url: `${bucket}/${name}`,
          owner: caller.sub,
          upsert,
          iat,
          exp: iat + 7200,
        });
        return json({ url: `/object/upload/sign/${bucket}/${name}?token=${token}`, token });
      }
      if (m === "PUT") {
        const claims = await verifySigned(url.searchParams.get("token"), `${bucket}/${name}`);
        const limit = Math.min(
          deps.fileSizeLimit,
          b.file_size_limit === null ? Infinity : Number(b.file_size_limit),
        );
        const body = await uploadBody(req, limit);
        if (!mimeAllowed(body.mime, b.allowed_mime_types, name)) {
          throw ERRORS.invalidMimeType(body.mime);
        }
        const temp = await storeTemp(body.stream, limit);
        const owner = typeof claims.owner === "string" ? claims.owner : null;
        const saved = await saveObject({
          caller: { role: "service_role", claims: {}, sub: owner },
          asSuperuser: true,
          owner,
          bucket,
          name,
          upsert: claims.upsert === true,
          temp,
          ...body,
        });
        return json({ Key: saved.Key, Id: saved.Id });
      }
    }
    if (m === "POST" || m === "PUT") return await upload(req, url, rest, m);
    if (m === "GET" || m === "HEAD") {
      const caller = await callerOf(req, url);
      const { bucket, name } = splitPath(rest);
      return await sendObject(
        req,
        await visibleObject(caller, bucket, name),
        url.searchParams.get("download"),
      );
    }
    if (m === "DELETE") {
      const caller = await callerOf(req, url);
      if (!rest.includes("/")) {
        const body = await readBody(req);
        return json(await removeMany(caller, decodeURIComponent(rest), body.prefixes));
      }
      const { bucket, name } = splitPath(rest);
      const deleted = await removeMany(caller, bucket, [name]);
      if (deleted.length === 0) throw ERRORS.noSuchKey();
      return json({ message: "Successfully deleted" });
    }
    return null;
  };

  const handleStorage = async (req: Request, path: string, url: URL): Promise<Response> => {
    // Storage's not-found handler names the request as Storage saw it (after `/storage/v1`).
    const notFound = () => ERRORS.routeNotFound(req.method, `${path}${url.search}`);
    try {
      if (path.startsWith("/object/")) {
        const res = await objects(req, url, path.slice("/object/".length));
        if (res) return res;
        throw notFound();
      }
      if (path === "/bucket" || path.startsWith("/bucket/")) {
        const caller = await callerOf(req, url);
        const res = await bucketRoutes(
          req,
          caller,
          path.slice("/bucket".length),
          url,
          () => readJson(req),
        );
        if (res) return res;
        throw notFound();
      }
      if (path.startsWith("/render/image/")) {
        const res = await renderRoutes(req, url, path.slice("/render/image/".length));
        if (res) return res;
        throw notFound();
      }
      if (path === "/status" || path === "/health") return json({ status: "ok" });
      throw notFound();
    } catch (e) {
      if (e instanceof StorageError) {
        if (req.method === "HEAD") return new Response(null, { status: statusOf(e) });
        return storageErrorResponse(e);
      }
      const mapped = fromDbError(e);
      if (mapped) return storageErrorResponse(mapped);
      deps.log(`[storage] unexpected error: ${e instanceof Error ? e.stack : e}`);
      return storageErrorResponse(ERRORS.internal());
    }
  };
  /** Stops the admin queue: jobs not started are dropped (the stack is going away). */
  return Object.assign(handleStorage, { close: () => adminJobs.close() });
}

class RollbackSignal extends Error {}
