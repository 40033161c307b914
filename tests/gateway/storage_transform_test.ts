/**
 * Image transformations on a project that enables them (`[storage.image_transformation]
 * enabled = true` in its config.toml): public, authenticated and signed render URLs made by
 * storage-js resize as Storage's imgproxy does (cover crops by gravity, contain fits, fill
 * stretches, never enlarging), pick WebP for clients that accept it unless `format: "origin"`,
 * honour quality, keep a signed URL's transformation fixed, and answer Storage's errors.
 */
import assert from "node:assert/strict";
import { PROJECT_ROOT } from "../../dev/supabase_cli.ts";
import { startTestStack } from "../harness/stack.ts";

const PUBLIC = "tx-public";
const PRIVATE = "tx-private";

/** A copy of this project with image transformations switched on in its config.toml. */
async function projectWithTransformations(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vq-tx-project-" });
  await Deno.mkdir(`${dir}/supabase/migrations`, { recursive: true });
  const config = await Deno.readTextFile(`${PROJECT_ROOT}/supabase/config.toml`);
  const enabled = config.replace(
    "# [storage.image_transformation]\n# enabled = true",
    "[storage.image_transformation]\nenabled = true",
  );
  assert.notEqual(enabled, config, "config.toml has the commented image_transformation block");
  await Deno.writeTextFile(`${dir}/supabase/config.toml`, enabled);
  for await (const entry of Deno.readDir(`${PROJECT_ROOT}/supabase/migrations`)) {
    await Deno.copyFile(
      `${PROJECT_ROOT}/supabase/migrations/${entry.name}`,
      `${dir}/supabase/migrations/${entry.name}`,
    );
  }
  await Deno.copyFile(`${PROJECT_ROOT}/supabase/seed.sql`, `${dir}/supabase/seed.sql`);
  return dir;
}

async function run(cmd: string, args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args: ["-v", "error", ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Four 100×200 vertical stripes: red, green, blue, white (400×200). */
async function stripes(format: "png" | "mjpeg"): Promise<Uint8Array> {
  const inputs = ["red", "green", "blue", "white"].flatMap((c) => [
    "-f",
    "lavfi",
    "-i",
    `color=${c}:s=100x200`,
  ]);
  return await run("ffmpeg", [
    ...inputs,
    ...["-filter_complex", "hstack=inputs=4", "-frames:v", "1", "-c:v", format],
    ...["-f", "image2pipe", "pipe:1"],
  ]);
}

interface Image {
  codec: string;
  w: number;
  h: number;
  /** Which stripe colour a pixel shows. */
  colorAt(x: number, y: number): string;
}

async function decode(bytes: Uint8Array): Promise<Image> {
  const probe = JSON.parse(
    new TextDecoder().decode(
      await run("ffprobe", ["-print_format", "json", "-show_streams", "-i", "pipe:0"], bytes),
    ),
  ) as { streams: { codec_name: string; width: number; height: number }[] };
  const { codec_name: codec, width: w, height: h } = probe.streams[0]!;
  const rgb = await run(
    "ffmpeg",
    ["-i", "pipe:0", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
    bytes,
  );
  return {
    codec,
    w,
    h,
    colorAt(x, y) {
      const [r, g, b] = rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3);
      if (r! > 200 && g! > 200 && b! > 200) return "white";
      return r! > g! && r! > b! ? "red" : g! > b! ? "green" : "blue";
    },
  };
}

async function fetched(url: string, headers: HeadersInit = {}) {
  const res = await fetch(url, { headers });
  assert.equal(res.status, 200, await res.clone().text().catch(() => ""));
  return { res, image: await decode(new Uint8Array(await res.arrayBuffer())) };
}

Deno.test("image transformations render as Storage's imgproxy does", async (t) => {
  const projectDir = await projectWithTransformations();
  try {
    await using stack = await startTestStack({
      projectDir,
      functionsDir: `${PROJECT_ROOT}/supabase/functions`,
    });
    await stack.superSql`insert into storage.buckets (id, name, public) values
      (${PUBLIC}, ${PUBLIC}, true), (${PRIVATE}, ${PRIVATE}, false)`;
    const service = stack.serviceClient();
    const png = await stripes("png");
    const jpeg = await stripes("mjpeg");
    for (const bucket of [PUBLIC, PRIVATE]) {
      const up = await service.storage.from(bucket).upload(
        "stripes.png",
        new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" }),
      );
      assert.equal(up.error, null);
    }
    await service.storage.from(PUBLIC).upload(
      "stripes.jpg",
      new Blob([jpeg as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
    );
    await service.storage.from(PUBLIC).upload(
      "notes.txt",
      new Blob(["not an image"], { type: "text/plain" }),
    );
    type Transform = NonNullable<
      Parameters<ReturnType<typeof service.storage.from>["getPublicUrl"]>[1]
    >["transform"];
    const publicUrl = (path: string, transform: Transform) =>
      service.storage.from(PUBLIC).getPublicUrl(path, { transform }).data.publicUrl;

    await t.step("cover (the default) scales to cover the box and crops the centre", async () => {
      const { res, image } = await fetched(publicUrl("stripes.png", { width: 100, height: 100 }));
      assert.equal(res.headers.get("content-type"), "image/png");
      assert.equal(res.headers.get("x-transformations"), "height:100,width:100,resizing_type:fill");
      assert.deepEqual([image.w, image.h], [100, 100]);
      assert.deepEqual([image.colorAt(20, 50), image.colorAt(80, 50)], ["green", "blue"]);
    });

    await t.step("cover crops toward the gravity it is given", async () => {
      const url = `${publicUrl("stripes.png", { width: 100, height: 100 })}&gravity=ea`;
      const { image } = await fetched(url);
      assert.deepEqual([image.colorAt(20, 50), image.colorAt(80, 50)], ["blue", "white"]);
    });

    await t.step("contain fits inside the box and keeps the aspect ratio", async () => {
      const { image } = await fetched(
        publicUrl("stripes.png", { width: 100, height: 100, resize: "contain" }),
      );
      assert.deepEqual([image.w, image.h], [100, 50]);
    });

    await t.step("fill stretches the whole image to the box", async () => {
      const { image } = await fetched(
        publicUrl("stripes.png", { width: 100, height: 100, resize: "fill" }),
      );
      assert.deepEqual([image.w, image.h], [100, 100]);
      assert.deepEqual([image.colorAt(10, 50), image.colorAt(90, 50)], ["red", "white"]);
    });

    await t.step("one side follows the aspect ratio and images are never enlarged", async () => {
      const { image } = await fetched(publicUrl("stripes.png", { width: 200 }));
      assert.deepEqual([image.w, image.h], [200, 100]);
      const big = await fetched(publicUrl("stripes.png", { width: 2000 }));
      assert.deepEqual([big.image.w, big.image.h], [400, 200]);
    });

    await t.step("clients that accept WebP get WebP unless format is origin", async () => {
      const webp = await fetched(publicUrl("stripes.png", { width: 50 }), {
        accept: "image/avif,image/webp,*/*",
      });
      assert.equal(webp.res.headers.get("content-type"), "image/webp");
      assert.equal(webp.image.codec, "webp");
      const origin = await fetched(publicUrl("stripes.png", { width: 50, format: "origin" }), {
        accept: "image/webp,*/*",
      });
      assert.equal(origin.res.headers.get("content-type"), "image/png");
    });

    await t.step("quality sets the encoder's quality", async () => {
      const low = await fetch(publicUrl("stripes.jpg", { width: 400, quality: 20 }));
      const high = await fetch(publicUrl("stripes.jpg", { width: 400, quality: 100 }));
      assert.equal(low.headers.get("content-type"), "image/jpeg");
      const [lowBytes, highBytes] = [await low.arrayBuffer(), await high.arrayBuffer()];
      assert.ok(
        lowBytes.byteLength < highBytes.byteLength,
        `${lowBytes.byteLength} < ${highBytes.byteLength}`,
      );
    });

    await t.step("download with transform renders a private object for its reader", async () => {
      const { data, error } = await service.storage.from(PRIVATE).download("stripes.png", {
        transform: { width: 50 },
      });
      assert.equal(error, null);
      const image = await decode(new Uint8Array(await data!.arrayBuffer()));
      assert.deepEqual([image.w, image.h], [50, 25]);
      const anon = await stack.client().storage.from(PRIVATE).download("stripes.png", {
        transform: { width: 50 },
      });
      assert.equal(anon.error?.message, "Object not found");
    });

    await t.step("a signed URL carries its transformation and ignores the query", async () => {
      const { data, error } = await service.storage.from(PRIVATE).createSignedUrl(
        "stripes.png",
        60,
        {
          transform: { width: 100, height: 50, resize: "contain" },
        },
      );
      assert.equal(error, null);
      assert.match(
        data!.signedUrl,
        /\/storage\/v1\/render\/image\/sign\/tx-private\/stripes\.png\?token=/,
      );
      const { res, image } = await fetched(`${data!.signedUrl}&width=10`);
      assert.deepEqual([image.w, image.h], [100, 50]);
      assert.ok(res.headers.get("expires"));
    });

    await t.step("what cannot be rendered answers Storage's errors", async () => {
      const text = await fetch(publicUrl("notes.txt", { width: 10 }));
      assert.equal(text.status, 400);
      assert.deepEqual(await text.json(), {
        statusCode: "400",
        code: "InvalidRequest",
        error: "InvalidRequest",
        message: "The source image is invalid or unsupported for rendering",
      });
      const quality = await fetch(publicUrl("stripes.png", { width: 10, quality: 5 }));
      assert.equal((await quality.json()).message, "querystring/quality must be >= 20");
      const privateAsPublic = await fetch(
        `${stack.info.supabaseUrl}/storage/v1/render/image/public/${PRIVATE}/stripes.png?width=10`,
      );
      assert.equal((await privateAsPublic.json()).message, "Bucket not found");
    });
  } finally {
    await Deno.remove(projectDir, { recursive: true });
  }
});
