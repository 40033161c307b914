/**
 * Start images for image-to-video. The user uploads to the private `inputs` bucket, into their own
 * folder `<user id>/…` (the bucket and its policies limit type and size); before a job is created
 * we check the path again: it is in the caller's folder, the object exists and the caller may
 * read it (RLS decides, reading `storage.objects` as the user). Because the user may replace that
 * object at any time, what we check and hand to fal is a snapshot: a copy made inside Storage to
 * `<user id>/.snapshots/<random id>/<file name>`, a folder users cannot write
 * (20251207200000_input_snapshots.sql). The copy's declared type and size must be allowed and its
 * first bytes really a PNG, JPEG, WebP or GIF. The job stores a `storage://inputs/<snapshot>`
 * reference that the dispatcher signs (input_refs.ts), so fal gets exactly the checked bytes.
 * (Pinning the original by ETag would refuse a replaced image at dispatch, failing the job; a
 * copy costs one Storage request and lets the user change their uploads freely.) Template images
 * live where users cannot write and are checked in place.
 */
import type { AuthUser } from "./auth.ts";
import { asUser, type Sql, type Tx } from "./db.ts";
import { AppError } from "./errors.ts";
import { MediaError, type StorageApi } from "./media_copy.ts";
import { storageRef } from "./input_refs.ts";

export const INPUTS_BUCKET = "inputs";
export const INPUT_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
export const INPUT_IMAGE_MAX_BYTES = 10 * 1024 * 1024;
/** Template start images live here (uploaded by the service, readable through templates only). */
export const TEMPLATE_IMAGES_FOLDER = "templates";
/** The folder under a user's own folder that holds the checked copies (read-only for users). */
export const SNAPSHOTS_FOLDER = ".snapshots";

/**
 * Checks an `image_path` (a user's image: snapshotted first); resolves to the job's storage
 * reference or throws a 400 AppError.
 */
export type CheckInputImage = (
  user: AuthUser,
  path: string,
  opts?: { trusted?: boolean },
) => Promise<string>;

/** Removes the snapshots behind `refs` (references of a request that created nothing). */
export type DiscardInputImages = (refs: string[]) => Promise<void>;

/** The snapshot paths among job references (`storage://inputs/<uid>/.snapshots/…`). */
export function snapshotPaths(refs: string[]): string[] {
  const prefix = `storage://${INPUTS_BUCKET}/`;
  return refs.filter((r) => r.startsWith(prefix) && r.split("/")[4] === SNAPSHOTS_FOLDER)
    .map((r) => r.slice(prefix.length));
}

/** The image type of a file's first bytes, or null. */
export function sniffImageType(head: Uint8Array): string | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const ascii = (at: number, text: string) =>
    [...text].every((c, i) => head[at + i] === c.charCodeAt(0));
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "image/gif";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "image/webp";
  return null;
}

/** `path` inside the inputs bucket (an `inputs/` prefix is accepted), or a 400. */
export function normalizeInputPath(path: string): string {
  const p = path.trim().replace(/^inputs\//, "");
  if (
    p === "" || p.length > 500 || p.startsWith("/") || p.includes("\\") || p.includes("//") ||
    p.split("/").some((s) => s === "." || s === "..")
  ) {
    throw new AppError("invalid_input", "image_path: not a path in the inputs bucket");
  }
  return p;
}

/** The real checker: Postgres (as the user) for the object row, Storage for the first bytes. */
export function createInputImageCheck(
  deps: { sql: Sql; storage: StorageApi; fetch?: typeof fetch },
): CheckInputImage {
  const doFetch = deps.fetch ?? fetch;
  const bad = (why: string) => new AppError("invalid_input", `image_path: ${why}`);

  async function head(path: string): Promise<Uint8Array> {
    const [url] = await deps.storage.sign(INPUTS_BUCKET, [path], 60);
    if (!url) throw bad("no such image in your inputs folder");
    const res = await doFetch(url, { headers: { range: "bytes=0-15" } });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`storage answered ${res.status} reading ${INPUTS_BUCKET}/${path}`);
    }
    const reader = res.body.getReader();
    const bytes = new Uint8Array(16);
    let got = 0;
    while (got < 16) {
      const { value, done } = await reader.read();
      if (done) break;
      const n = Math.min(value.byteLength, 16 - got);
      bytes.set(value.subarray(0, n), got);
      got += n;
    }
    await reader.cancel().catch(() => {});
    return bytes.subarray(0, got);
  }

  type ObjectRow = { mimetype: string | null; size: string | null };
  const objectRow = (path: string) => (q: Tx) =>
    q<ObjectRow[]>`
      select o.metadata ->> 'mimetype' as mimetype, o.metadata ->> 'size' as size
      from storage.objects o where o.bucket_id = ${INPUTS_BUCKET} and o.name = ${path}`;

  /** The checks on an object nobody but the service can change (a snapshot or a template image). */
  async function checkStored(path: string): Promise<void> {
    const row = (await deps.sql.begin(objectRow(path)) as ObjectRow[])[0];
    if (!row) throw bad("no such image in your inputs folder");
    if (!row.mimetype || !INPUT_IMAGE_TYPES.includes(row.mimetype)) {
      throw bad("must be a PNG, JPEG, WebP or GIF image");
    }
    if (Number(row.size ?? "0") > INPUT_IMAGE_MAX_BYTES) {
      throw bad(`larger than ${INPUT_IMAGE_MAX_BYTES / (1024 * 1024)} MB`);
    }
    if (!sniffImageType(await head(path))) {
      throw bad("the file is not a PNG, JPEG, WebP or GIF image");
    }
  }

  return async (user, rawPath, opts = {}) => {
    const path = normalizeInputPath(rawPath);
    if (opts.trusted) {
      await checkStored(path);
      return storageRef(INPUTS_BUCKET, path);
    }
    if (path.split("/")[0] !== user.id) {
      throw bad(`must be in your own folder of the inputs bucket (${user.id}/…)`);
    }
    // The user's own image is read as the user, so RLS decides that it is theirs.
    if ((await asUser(deps.sql, user, objectRow(path), { role: "authenticated" })).length === 0) {
      throw bad("no such image in your inputs folder");
    }
    const name = path.split("/").at(-1)!;
    const snapshot = `${user.id}/${SNAPSHOTS_FOLDER}/${crypto.randomUUID()}/${name}`;
    try {
      await deps.storage.copy(INPUTS_BUCKET, path, snapshot);
    } catch (e) {
      // Gone between the read and the copy.
      if (e instanceof MediaError && !e.transient) throw bad("no such image in your inputs folder");
      throw e;
    }
    try {
      await checkStored(snapshot);
    } catch (e) {
      await deps.storage.remove(INPUTS_BUCKET, [snapshot]).catch(() => {});
      throw e;
    }
    return storageRef(INPUTS_BUCKET, snapshot);
  };
}

/** Returns `discard(refs)`, removing the snapshots among them (best effort). */
export function createInputImageDiscard(deps: { storage: StorageApi }): DiscardInputImages {
  return async (refs) => {
    const paths = snapshotPaths(refs);
    if (paths.length) await deps.storage.remove(INPUTS_BUCKET, paths).catch(() => {});
  };
}
