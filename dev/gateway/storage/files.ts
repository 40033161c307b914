/**
 * Object bytes on disk under `<storageDir>/<bucket>/<name>`: size-limited streaming writes into
 * a temporary file (with the MD5 ETag Storage reports), atomic placement, ranged reads, moves,
 * copies and deletes.
 */
import { createHash } from "node:crypto";

export interface StoredTemp {
  path: string;
  size: number;
  /** Quoted MD5 hex of the content, as Storage's `eTag`. */
  etag: string;
}

/** Raised when a body grows past the allowed size. */
export class TooLargeError extends Error {}

export interface ObjectFiles {
  /** Where an object's bytes live on disk (for tools that read files, like ffmpeg). */
  pathOf(bucket: string, name: string): string;
  /** Streams `body` into a temporary file, refusing more than `limit` bytes. */
  writeTemp(body: ReadableStream<Uint8Array> | null, limit: number): Promise<StoredTemp>;
  /** Moves a temporary file to the object's place (replacing what was there). */
  place(temp: string, bucket: string, name: string): Promise<void>;
  discard(temp: string): Promise<void>;
  /** Opens an object for reading; null when the file is missing. */
  open(bucket: string, name: string): Promise<Deno.FsFile | null>;
  remove(bucket: string, name: string): Promise<void>;
  move(fromBucket: string, from: string, toBucket: string, to: string): Promise<void>;
  copy(fromBucket: string, from: string, toBucket: string, to: string): Promise<void>;
  removeBucket(bucket: string): Promise<void>;
}

/** Creates the file store rooted at `storageDir`. */
export function createObjectFiles(storageDir: string): ObjectFiles {
  const pathOf = (bucket: string, name: string) => {
    // Keys are validated at the API; this guard keeps a bad row from escaping the folder.
    if (`${bucket}/${name}`.split("/").some((seg) => seg === ".." || seg === ".")) {
      throw new Error(`refusing object path ${bucket}/${name}`);
    }
    return `${storageDir}/${bucket}/${name}`;
  };
  const ensureParent = (path: string) =>
    Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const ignoreMissing = (e: unknown) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  };

  return {
    pathOf,
    async writeTemp(body, limit) {
      const dir = `${storageDir}/.tmp`;
      await Deno.mkdir(dir, { recursive: true });
      const path = `${dir}/${crypto.randomUUID()}`;
      const file = await Deno.open(path, { write: true, createNew: true });
      const md5 = createHash("md5");
      let size = 0;
      try {
        if (body) {
          for await (const chunk of body) {
            size += chunk.byteLength;
            if (size > limit) throw new TooLargeError();
            md5.update(chunk);
            let written = 0;
            while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
          }
        }
      } catch (e) {
        file.close();
        await Deno.remove(path).catch(() => {});
        throw e;
      }
      file.close();
      return { path, size, etag: `"${md5.digest("hex")}"` };
    },
    async place(temp, bucket, name) {
      const target = pathOf(bucket, name);
      await ensureParent(target);
      await Deno.rename(temp, target);
    },
    discard: (temp) => Deno.remove(temp).catch(ignoreMissing),
    async open(bucket, name) {
      try {
        return await Deno.open(pathOf(bucket, name), { read: true });
      } catch (e) {
        ignoreMissing(e);
        return null;
      }
    },
    remove: (bucket, name) => Deno.remove(pathOf(bucket, name)).catch(ignoreMissing),
    async move(fromBucket, from, toBucket, to) {
      const target = pathOf(toBucket, to);
      await ensureParent(target);
      await Deno.rename(pathOf(fromBucket, from), target).catch(ignoreMissing);
    },
    async copy(fromBucket, from, toBucket, to) {
      const target = pathOf(toBucket, to);
      await ensureParent(target);
      await Deno.copyFile(pathOf(fromBucket, from), target);
    },
    removeBucket: (bucket) =>
      Deno.remove(`${storageDir}/${bucket}`, { recursive: true }).catch(ignoreMissing),
  };
}
