/**
 * Storage through the unmodified storage-js answers as supabase/storage does where a new user
 * looks first: `listV2` (folders and objects, cursors, sort orders, RLS), bucket size limits in
 * Storage's decimal units and capped by the project's limit, the bucket endpoints' fields and
 * messages, `info()`, Storage's key and MIME rules, and image transformations refused with
 * Storage's error when the project has them switched off (config.toml's default).
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import { startTestStack } from "../harness/stack.ts";

const LIST = "parity-list";
const MIME = "parity-mime";

const SETUP = `
  insert into storage.buckets (id, name, public) values ('${LIST}', '${LIST}', false);
  insert into storage.buckets (id, name, public, allowed_mime_types)
    values ('${MIME}', '${MIME}', true, '{text/plain,image/*}');
  create policy parity_insert on storage.objects for insert to authenticated
    with check (bucket_id = '${LIST}' and (storage.foldername(name))[1] = auth.uid()::text);
  create policy parity_select on storage.objects for select to authenticated
    using (bucket_id = '${LIST}' and (storage.foldername(name))[1] = auth.uid()::text);
`;

/** Uploaded in this order; created_at is then set to `T0 + position` seconds. */
const NAMES = [
  "m/1.txt",
  "a.txt",
  "b/1.txt",
  "a/1.txt",
  "z.txt",
  "a/2.txt",
  "b/2.txt",
  "b/c/3.txt",
  "m/2.txt",
];
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const at = (i: number) => new Date(T0 + (i + 1) * 1000).toISOString();

type ErrorLike = { message: string; statusCode?: string; code?: string } | null;
const statusCode = (e: unknown) => (e as ErrorLike)?.statusCode;

async function pages(client: SupabaseClient, options: Record<string, unknown>) {
  const seen: { folders: string[]; objects: string[]; keys: (string | undefined)[] }[] = [];
  let cursor: string | undefined;
  do {
    const { data, error } = await client.storage.from(LIST).listV2({ ...options, cursor });
    assert.equal(error, null);
    seen.push({
      folders: data!.folders.map((f) => f.name),
      objects: data!.objects.map((o) => o.name),
      keys: [...data!.folders, ...data!.objects].map((e) => e.key),
    });
    assert.equal(data!.hasNext, data!.nextCursor !== undefined);
    cursor = data!.nextCursor;
  } while (cursor);
  return seen;
}

Deno.test("Storage answers supabase-js as supabase/storage does", async (t) => {
  await using stack = await startTestStack();
  await stack.superSql.unsafe(SETUP);
  const service = stack.serviceClient();
  for (const name of NAMES) {
    const { error } = await service.storage.from(LIST).upload(name, new Blob([name]));
    assert.equal(error, null, name);
  }
  for (const [i, name] of NAMES.entries()) {
    await stack.superSql`update storage.objects set created_at = ${at(i)}, updated_at = ${at(i)}
      where bucket_id = ${LIST} and name = ${name}`;
  }

  await t.step("listV2 with a delimiter pages folders and objects in name order", async () => {
    assert.deepEqual(await pages(service, { with_delimiter: true, limit: 2 }), [
      { folders: ["a/"], objects: ["a.txt"], keys: ["a", "a.txt"] },
      { folders: ["b/", "m/"], objects: [], keys: ["b", "m"] },
      { folders: [], objects: ["z.txt"], keys: ["z.txt"] },
    ]);
  });

  await t.step("listV2 entries carry Storage's fields; cursors name the last entry", async () => {
    const { data } = await service.storage.from(LIST).listV2({ with_delimiter: true, limit: 2 });
    assert.deepEqual(data!.folders[0], {
      key: "a",
      name: "a/",
      id: null,
      updated_at: null,
      created_at: null,
      last_accessed_at: null,
      metadata: null,
    });
    const file = data!.objects[0]!;
    assert.deepEqual(Object.keys(file), [
      "key",
      "name",
      "id",
      "updated_at",
      "created_at",
      "last_accessed_at",
      "metadata",
    ]);
    assert.equal(file.created_at, at(1));
    assert.equal((data as unknown as { nextCursorKey: string }).nextCursorKey, "a");
    assert.equal(atob(data!.nextCursor!), "l:a");
  });

  await t.step("listV2 under a prefix names objects in full and keys them by level", async () => {
    const { data } = await service.storage.from(LIST).listV2({
      with_delimiter: true,
      prefix: "b/",
    });
    assert.deepEqual(data!.folders.map((f) => [f.name, f.key]), [["b/c/", "c"]]);
    assert.deepEqual(data!.objects.map((o) => [o.name, o.key]), [
      ["b/1.txt", "1.txt"],
      ["b/2.txt", "2.txt"],
    ]);
  });

  await t.step("listV2 in descending name order pages backwards", async () => {
    const seen = await pages(service, {
      with_delimiter: true,
      limit: 3,
      sortBy: { column: "name", order: "desc" },
    });
    assert.deepEqual(seen.map((p) => [...p.objects, ...p.folders]), [
      ["z.txt", "m/", "b/"],
      ["a.txt", "a/"],
    ]);
  });

  await t.step("listV2 by created_at dates a folder by its oldest object", async () => {
    const seen = await pages(service, {
      with_delimiter: true,
      limit: 2,
      sortBy: { column: "created_at", order: "asc" },
    });
    assert.deepEqual(seen.map((p) => [p.folders, p.objects]), [
      [["m/"], ["a.txt"]],
      [["b/", "a/"], []],
      [[], ["z.txt"]],
    ]);
    const { data } = await service.storage.from(LIST).listV2({
      with_delimiter: true,
      sortBy: { column: "created_at", order: "desc" },
    });
    const folderB = data!.folders.find((f) => f.name === "b/") as unknown as Record<
      string,
      unknown
    >;
    assert.equal(folderB.created_at, at(2));
    assert.equal(folderB.updated_at, at(2));
    assert.deepEqual(data!.folders.map((f) => f.name), ["a/", "b/", "m/"]);
  });

  await t.step("listV2 without a delimiter lists every object under the prefix", async () => {
    const { data } = await service.storage.from(LIST).listV2({ prefix: "b" });
    assert.deepEqual(data!.folders, []);
    assert.deepEqual(data!.objects.map((o) => o.name), ["b/1.txt", "b/2.txt", "b/c/3.txt"]);
    assert.deepEqual(Object.keys(data!.objects[0]!), [
      "id",
      "name",
      "metadata",
      "updated_at",
      "created_at",
      "last_accessed_at",
    ]);
    const seen = await pages(service, {
      limit: 4,
      sortBy: { column: "updated_at", order: "desc" },
    });
    assert.deepEqual(seen.flatMap((p) => p.objects), [...NAMES].reverse());
    assert.equal(seen.length, 3);
  });

  await t.step("listV2 shows a user only what RLS lets them select", async () => {
    const user = stack.client();
    const { data: session } = await user.auth.signInAnonymously();
    const uid = session.user!.id;
    assert.equal(
      (await user.storage.from(LIST).upload(`${uid}/mine.txt`, new Blob(["x"]))).error,
      null,
    );
    const { data } = await user.storage.from(LIST).listV2({ with_delimiter: true });
    assert.deepEqual(data!.folders.map((f) => f.name), [`${uid}/`]);
    assert.deepEqual(data!.objects, []);
    const stranger = stack.client();
    await stranger.auth.signInAnonymously();
    const theirs = await stranger.storage.from(LIST).listV2({ with_delimiter: true });
    assert.deepEqual(theirs.data, { hasNext: false, folders: [], objects: [] });
  });

  await t.step("listV2 on a bucket that does not exist lists nothing", async () => {
    const { data, error } = await service.storage.from("parity-nothing").listV2();
    assert.equal(error, null);
    assert.deepEqual(data, { hasNext: false, folders: [], objects: [] });
  });

  await t.step("listV2 refuses a bad limit or cursor as Storage does", async () => {
    const zero = await service.storage.from(LIST).listV2({ limit: 0 });
    assert.equal(zero.error?.message, "body/limit must be >= 1");
    assert.equal(statusCode(zero.error), "400");
    const bad = await service.storage.from(LIST).listV2({ cursor: btoa("nope") });
    assert.equal(bad.error?.message, "Invalid Parameter continuation token");
  });

  await t.step("bucket size limits use Storage's decimal units", async () => {
    const made = await service.storage.createBucket("parity-sized", {
      public: false,
      fileSizeLimit: "20mb",
    });
    assert.deepEqual(made, { data: { name: "parity-sized" }, error: null });
    assert.equal(
      (await service.storage.getBucket("parity-sized")).data?.file_size_limit,
      20_000_000,
    );
    const updated = await service.storage.updateBucket("parity-sized", {
      public: false,
      fileSizeLimit: "2KB",
    });
    assert.deepEqual(updated.data, { message: "Successfully updated" });
    assert.equal((await service.storage.getBucket("parity-sized")).data?.file_size_limit, 2000);
    const fits = await service.storage.from("parity-sized").upload(
      "ok.bin",
      new Blob(["x".repeat(2000)]),
    );
    assert.equal(fits.error, null);
    const over = await service.storage.from("parity-sized").upload(
      "no.bin",
      new Blob(["x".repeat(2001)]),
    );
    assert.equal(statusCode(over.error), "413");
  });

  await t.step(
    "a bucket limit above the project's limit or in binary units is refused",
    async () => {
      const huge = await service.storage.createBucket("parity-huge", {
        public: false,
        fileSizeLimit: "60MB",
      });
      assert.equal(huge.error?.message, "The object exceeded the maximum allowed size");
      assert.equal(statusCode(huge.error), "413");
      const mib = await service.storage.createBucket("parity-mib", {
        public: false,
        fileSizeLimit: "20MiB",
      });
      assert.equal(statusCode(mib.error), "400");
      assert.match(
        mib.error?.message ?? "",
        /^body\/file_size_limit must be integer, .*must match a schema in anyOf$/,
      );
      for (const id of ["parity-huge", "parity-mib"]) {
        assert.equal((await service.storage.getBucket(id)).error?.message, "Bucket not found");
      }
    },
  );

  await t.step("getBucket and listBuckets answer Storage's columns", async () => {
    const { data } = await service.storage.getBucket(LIST);
    assert.deepEqual(Object.keys(data!), [
      "id",
      "name",
      "owner",
      "public",
      "file_size_limit",
      "allowed_mime_types",
      "created_at",
      "updated_at",
    ]);
    assert.equal(data!.owner, "");
    const sorted = await service.storage.listBuckets({
      search: "parity-",
      sortColumn: "name",
      sortOrder: "desc",
      limit: 2,
    });
    assert.deepEqual(sorted.data!.map((b) => b.id), ["parity-sized", MIME]);
    const listed = await service.storage.listBuckets({ search: "parity-l" });
    assert.deepEqual(listed.data!.map((b) => [b.id, b.type]), [[LIST, "STANDARD"]]);
    assert.equal(
      Object.keys(listed.data![0]!).join(),
      "id,name,owner,public,type,file_size_limit,allowed_mime_types,created_at,updated_at",
    );
  });

  await t.step("bucket errors carry Storage's codes and messages", async () => {
    const missing = await service.storage.getBucket("parity-missing");
    assert.equal(missing.error?.message, "Bucket not found");
    assert.equal(statusCode(missing.error), "404");
    const dup = await service.storage.createBucket(LIST);
    assert.equal(dup.error?.message, "The resource already exists");
    assert.equal((dup.error as ErrorLike)?.code, "BucketAlreadyExists");
    assert.equal(statusCode(dup.error), "409");
    // What a JavaScript caller passing no settings sends: only `id` and `name`.
    const nothing = await service.storage.updateBucket(LIST, {} as { public: boolean });
    assert.equal(statusCode(nothing.error), "400");
    assert.match(nothing.error?.message ?? "", /^body must have required property 'public'/);
    const badName = await service.storage.createBucket(" parity-space");
    assert.equal(badName.error?.message, "Bucket name invalid");
  });

  await t.step("a non-empty bucket is refused deletion until emptied", async () => {
    const full = await service.storage.deleteBucket("parity-sized");
    assert.equal(full.error?.message, "The bucket you tried to delete is not empty");
    assert.equal(statusCode(full.error), "409");
    const emptied = await service.storage.emptyBucket("parity-sized");
    assert.deepEqual(emptied, {
      data: { message: "Empty bucket has been queued. Completion may take up to an hour." },
      error: null,
    });
    // Hosted queues the deletion: right after the answer the objects are still there.
    assert.notDeepEqual((await service.storage.from("parity-sized").list()).data, []);
    const early = await service.storage.deleteBucket("parity-sized");
    assert.equal(early.error?.message, "The bucket you tried to delete is not empty");
    // As on hosted: wait until list() comes back empty.
    const deadline = Date.now() + 15_000;
    while ((await service.storage.from("parity-sized").list()).data?.length) {
      assert.ok(Date.now() < deadline, "emptyBucket's admin job never ran");
      await new Promise((r) => setTimeout(r, 100));
    }
    const gone = await service.storage.deleteBucket("parity-sized");
    assert.deepEqual(gone.data, { message: "Successfully deleted" });
  });

  await t.step("info() answers Storage's fields", async () => {
    const { data, error } = await service.storage.from(LIST).info("a.txt");
    assert.equal(error, null);
    const [row] = await stack.superSql<{ id: string; updated_at: Date }[]>`
      select id, updated_at from storage.objects where bucket_id = ${LIST} and name = 'a.txt'`;
    assert.deepEqual(Object.keys(data!).sort(), [
      "bucketId",
      "cacheControl",
      "contentType",
      "createdAt",
      "etag",
      "id",
      "lastModified",
      "metadata",
      "name",
      "size",
      "version",
    ]);
    assert.equal(data!.id, row!.id);
    assert.equal(data!.lastModified, row!.updated_at.toISOString());
    assert.equal(data!.metadata, null);
    assert.equal(data!.size, 5);
    await service.storage.from(LIST).upload("with-meta.txt", new Blob(["m"]), {
      metadata: { a: 1 },
    });
    assert.deepEqual((await service.storage.from(LIST).info("with-meta.txt")).data?.metadata, {
      a: 1,
    });
  });

  await t.step("object keys outside Storage's character set are refused", async () => {
    const { error } = await service.storage.from(LIST).upload(
      "caf\u00e9/menu.txt",
      new Blob(["x"]),
    );
    assert.equal(error?.message, "Invalid key: caf\u00e9/menu.txt");
    assert.equal(statusCode(error), "400");
  });

  await t.step("allowed MIME types match as Storage compares them", async () => {
    const withCharset = await service.storage.from(MIME).upload(
      "a.txt",
      new Blob(["x"], { type: "text/plain;charset=utf-8" }),
    );
    assert.equal(statusCode(withCharset.error), "415");
    assert.equal(withCharset.error?.message, "mime type text/plain;charset=utf-8 is not supported");
    const plain = await service.storage.from(MIME).upload(
      "b.txt",
      new Blob(["x"], { type: "text/plain" }),
    );
    assert.equal(plain.error, null);
  });

  await t.step("image transformations are refused while the project has them off", async () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    await service.storage.from(MIME).upload("pic.png", new Blob([png], { type: "image/png" }));
    const { data } = service.storage.from(MIME).getPublicUrl("pic.png", {
      transform: { width: 10 },
    });
    assert.match(
      data.publicUrl,
      /\/storage\/v1\/render\/image\/public\/parity-mime\/pic\.png\?width=10$/,
    );
    const res = await fetch(data.publicUrl);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      statusCode: "403",
      code: "FeatureNotEnabled",
      error: "FeatureNotEnabled",
      message: "feature not enabled for this tenant",
    });
    const down = await service.storage.from(MIME).download("pic.png", { transform: { width: 10 } });
    assert.equal(statusCode(down.error), "403");
    const signed = await service.storage.from(MIME).createSignedUrl("pic.png", 60, {
      transform: { width: 10 },
    });
    assert.match(
      signed.data!.signedUrl,
      /\/storage\/v1\/object\/sign\/parity-mime\/pic\.png\?token=/,
    );
    const original = await fetch(signed.data!.signedUrl);
    assert.deepEqual(new Uint8Array(await original.arrayBuffer()), png);
  });
});
