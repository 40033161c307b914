/**
 * Supabase Storage through the gateway with the unmodified supabase-js (storage-js), checked
 * against Storage's documented behaviour: upload → signed URL → download, RLS on
 * storage.objects deciding for user tokens (a stranger is refused), the service role bypassing
 * it, bucket size and MIME limits, upsert, list, move, remove, public buckets and byte ranges.
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import { startTestStack } from "../harness/stack.ts";

const PRIVATE = "gw-private";
const PUBLIC = "gw-public";

/** Bucket and policies as a project migration would create them: users own `<uid>/…`. */
const SETUP = `
  insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types) values
    ('${PRIVATE}', '${PRIVATE}', false, 1024, '{text/plain,image/*}'),
    ('${PUBLIC}', '${PUBLIC}', true, null, null);
  create policy gw_test_insert on storage.objects for insert to authenticated
    with check (bucket_id = '${PRIVATE}' and (storage.foldername(name))[1] = auth.uid()::text);
  create policy gw_test_select on storage.objects for select to authenticated
    using (bucket_id = '${PRIVATE}' and (storage.foldername(name))[1] = auth.uid()::text);
  create policy gw_test_update on storage.objects for update to authenticated
    using (bucket_id = '${PRIVATE}' and (storage.foldername(name))[1] = auth.uid()::text);
  create policy gw_test_delete on storage.objects for delete to authenticated
    using (bucket_id = '${PRIVATE}' and (storage.foldername(name))[1] = auth.uid()::text);
`;

async function signedIn(client: SupabaseClient): Promise<string> {
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  return data.user!.id;
}

const text = (s: string) => new Blob([s], { type: "text/plain" });

Deno.test("storage behaves as Supabase Storage", async (t) => {
  await using stack = await startTestStack();
  await stack.superSql.unsafe(SETUP);
  const owner = stack.client();
  const ownerId = await signedIn(owner);
  const stranger = stack.client();
  await signedIn(stranger);
  const path = `${ownerId}/hello.txt`;

  await t.step("upload, create a signed URL, download it without credentials", async () => {
    const up = await owner.storage.from(PRIVATE).upload(path, text("hello storage"));
    assert.equal(up.error, null);
    assert.equal(up.data?.path, path);
    assert.equal(up.data?.fullPath, `${PRIVATE}/${path}`);
    const { data, error } = await owner.storage.from(PRIVATE).createSignedUrl(path, 60);
    assert.equal(error, null);
    assert.ok(data?.signedUrl.startsWith(`${stack.info.supabaseUrl}/storage/v1/object/sign/`));
    const res = await fetch(data!.signedUrl);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), "hello storage");
  });

  await t.step(
    "the owner downloads through the API; the row records owner and metadata",
    async () => {
      const { data, error } = await owner.storage.from(PRIVATE).download(path);
      assert.equal(error, null);
      assert.equal(await data!.text(), "hello storage");
      const [row] = await stack.superSql<
        { owner: string; metadata: { size: number; mimetype: string } }[]
      >`
      select owner::text, metadata from storage.objects where bucket_id = ${PRIVATE} and name = ${path}`;
      assert.equal(row?.owner, ownerId);
      assert.equal(row?.metadata.size, 13);
      assert.equal(row?.metadata.mimetype, "text/plain");
    },
  );

  await t.step("a stranger is refused by RLS: no upload, download or signed URL", async () => {
    const up = await stranger.storage.from(PRIVATE).upload(`${ownerId}/intruder.txt`, text("x"));
    assert.ok(up.error);
    assert.equal(up.error.message, "new row violates row-level security policy");
    assert.equal((up.error as unknown as { statusCode: string }).statusCode, "403");
    const down = await stranger.storage.from(PRIVATE).download(path);
    assert.ok(down.error);
    const signed = await stranger.storage.from(PRIVATE).createSignedUrl(path, 60);
    assert.ok(signed.error);
    assert.equal(signed.error.message, "Object not found");
    const anonDown = await stack.client().storage.from(PRIVATE).download(path);
    assert.ok(anonDown.error);
  });

  await t.step("the service role bypasses RLS", async () => {
    const { data, error } = await stack.serviceClient().storage.from(PRIVATE).download(path);
    assert.equal(error, null);
    assert.equal(await data!.text(), "hello storage");
  });

  await t.step("the bucket's size limit is enforced and nothing is stored", async () => {
    const big = `${ownerId}/big.txt`;
    const { error } = await owner.storage.from(PRIVATE).upload(big, text("x".repeat(2048)));
    assert.ok(error);
    assert.equal((error as unknown as { statusCode: string }).statusCode, "413");
    const raw = await owner.storage.from(PRIVATE).upload(
      big,
      new TextEncoder().encode("y".repeat(4096)),
      {
        contentType: "text/plain",
      },
    );
    assert.equal((raw.error as unknown as { statusCode: string }).statusCode, "413");
    const [count] = await stack.superSql<{ n: number }[]>`
      select count(*)::int as n from storage.objects where name = ${big}`;
    assert.equal(count?.n, 0);
  });

  await t.step("the bucket's MIME types are enforced", async () => {
    const { error } = await owner.storage.from(PRIVATE).upload(
      `${ownerId}/doc.pdf`,
      new Blob(["%PDF"], { type: "application/pdf" }),
    );
    assert.equal((error as unknown as { statusCode: string }).statusCode, "415");
    const image = await owner.storage.from(PRIVATE).upload(
      `${ownerId}/pic.png`,
      new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" }),
    );
    assert.equal(image.error, null, "image/* allows image/png");
  });

  await t.step("uploading over an object needs upsert", async () => {
    const dup = await owner.storage.from(PRIVATE).upload(path, text("again"));
    assert.equal((dup.error as unknown as { statusCode: string }).statusCode, "409");
    const upsert = await owner.storage.from(PRIVATE).upload(path, text("replaced"), {
      upsert: true,
    });
    assert.equal(upsert.error, null);
    const { data } = await owner.storage.from(PRIVATE).download(path);
    assert.equal(await data!.text(), "replaced");
  });

  await t.step("batch signed URLs report the objects the caller cannot see", async () => {
    const { data, error } = await owner.storage.from(PRIVATE).createSignedUrls(
      [path, `${ownerId}/missing.txt`],
      60,
    );
    assert.equal(error, null);
    assert.ok(data?.[0]?.signedUrl);
    assert.equal(data?.[0]?.error, null);
    assert.equal(data?.[1]?.signedUrl, null);
    assert.ok(data?.[1]?.error);
  });

  await t.step("a signed URL only opens its own object", async () => {
    const { data } = await owner.storage.from(PRIVATE).createSignedUrl(path, 60);
    const token = new URL(data!.signedUrl).searchParams.get("token");
    const other =
      `${stack.info.supabaseUrl}/storage/v1/object/sign/${PRIVATE}/${ownerId}/pic.png?token=${token}`;
    const res = await fetch(other);
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });

  await t.step("byte ranges are served as 206 partial content", async () => {
    const { data } = await owner.storage.from(PRIVATE).createSignedUrl(path, 60);
    const res = await fetch(data!.signedUrl, { headers: { range: "bytes=2-4" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), "bytes 2-4/8");
    assert.equal(await res.text(), "pla");
  });

  await t.step("list, move and remove work on the caller's own objects", async () => {
    const listed = await owner.storage.from(PRIVATE).list(ownerId);
    assert.equal(listed.error, null);
    assert.deepEqual(listed.data?.map((f) => f.name).sort(), ["hello.txt", "pic.png"]);
    const root = await owner.storage.from(PRIVATE).list();
    assert.deepEqual(root.data?.map((f) => [f.name, f.id]), [[ownerId, null]]);
    assert.deepEqual((await stranger.storage.from(PRIVATE).list(ownerId)).data, []);
    const moved = await owner.storage.from(PRIVATE).move(path, `${ownerId}/moved.txt`);
    assert.equal(moved.error, null);
    const gone = await owner.storage.from(PRIVATE).download(path);
    assert.ok(gone.error);
    const { data: blob } = await owner.storage.from(PRIVATE).download(`${ownerId}/moved.txt`);
    assert.equal(await blob!.text(), "replaced");
    const strangerRemove = await stranger.storage.from(PRIVATE).remove([`${ownerId}/moved.txt`]);
    assert.deepEqual(strangerRemove.data, []);
    const removed = await owner.storage.from(PRIVATE).remove([`${ownerId}/moved.txt`]);
    assert.equal(removed.error, null);
    assert.equal(removed.data?.length, 1);
    assert.ok((await owner.storage.from(PRIVATE).download(`${ownerId}/moved.txt`)).error);
  });

  await t.step("public buckets serve objects without credentials", async () => {
    const service = stack.serviceClient();
    const up = await service.storage.from(PUBLIC).upload("logo.txt", text("public bytes"));
    assert.equal(up.error, null);
    const { data } = service.storage.from(PUBLIC).getPublicUrl("logo.txt");
    const res = await fetch(data.publicUrl);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "public bytes");
    const privateAsPublic = await fetch(
      `${stack.info.supabaseUrl}/storage/v1/object/public/${PRIVATE}/${ownerId}/pic.png`,
    );
    assert.equal(privateAsPublic.status, 400);
    await privateAsPublic.body?.cancel();
  });

  await t.step("the service role manages buckets", async () => {
    const service = stack.serviceClient();
    const created = await service.storage.createBucket("gw-made", {
      public: false,
      fileSizeLimit: "1MB",
      allowedMimeTypes: ["video/mp4"],
    });
    assert.equal(created.error, null);
    const { data } = await service.storage.getBucket("gw-made");
    assert.equal(data?.file_size_limit, 1_000_000, 'Storage reads "1MB" in decimal units');
    assert.deepEqual(data?.allowed_mime_types, ["video/mp4"]);
    const refused = await owner.storage.createBucket("gw-user-made");
    assert.ok(refused.error, "users may not create buckets without a policy");
    assert.equal((await service.storage.deleteBucket("gw-made")).error, null);
  });
});
