/**
 * `/storage/v1/render/image/{public,authenticated,sign}/<bucket>/<name>`: Storage's image
 * transformation routes. With `[storage.image_transformation] enabled = true` they render with
 * ffmpeg (image_render.ts) and answer Storage's headers; otherwise they answer what hosted
 * Supabase answers a project without the feature: 403 `FeatureNotEnabled`.
 */
import { ERRORS } from "./errors.ts";
import type { ObjectFiles } from "./files.ts";
import { renderImage } from "./image_render.ts";
import {
  parseTransform,
  transformationSegments,
  transformFromClaim,
  type TransformOptions,
} from "./transform.ts";
import type { Caller, ObjectRow } from "./types.ts";

export interface RenderRoutesDeps {
  enabled: boolean;
  files: ObjectFiles;
  callerOf(req: Request, url: URL): Promise<Caller>;
  splitPath(rest: string): { bucket: string; name: string };
  /** The bucket's `public` flag, or null when it does not exist. */
  bucketPublic(id: string): Promise<boolean | null>;
  visibleObject(caller: Caller, bucket: string, name: string): Promise<ObjectRow>;
  superuserObject(bucket: string, name: string): Promise<ObjectRow>;
  verifySigned(token: string | null, expectedUrl: string): Promise<Record<string, unknown>>;
}

/** Creates the handler for `/render/image/…`; `rest` is the part after `/render/image/`. */
export function createRenderRoutes(deps: RenderRoutesDeps) {
  const queryOptions = (url: URL) => {
    const raw: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k !== "token" && k !== "download") raw[k] = v;
    }
    return parseTransform(raw, "querystring");
  };

  const send = async (
    req: Request,
    url: URL,
    row: ObjectRow,
    options: TransformOptions,
    expires?: string,
  ): Promise<Response> => {
    const file = await deps.files.open(row.bucket_id, row.name);
    if (!file) throw ERRORS.noSuchKey();
    const size = (await file.stat()).size;
    file.close();
    const image = await renderImage(
      { path: deps.files.pathOf(row.bucket_id, row.name), size },
      options,
      options.format === "origin" ? null : req.headers.get("accept"),
    );
    const meta = row.metadata ?? {};
    const headers = new Headers({
      "accept-ranges": "bytes",
      "content-type": image.contentType,
      "content-length": String(image.bytes.byteLength),
      "x-robots-tag": "none",
    });
    if (meta.eTag) headers.set("etag", String(meta.eTag));
    if (expires) headers.set("expires", expires);
    else headers.set("cache-control", String(meta.cacheControl ?? "no-cache"));
    const segments = transformationSegments(options, false);
    if (segments.length) headers.set("x-transformations", segments.join(","));
    const download = url.searchParams.get("download");
    if (download === "") headers.set("content-disposition", "attachment;");
    else if (download !== null) {
      const name = encodeURIComponent(download);
      headers.set("content-disposition", `attachment; filename=${name}; filename*=UTF-8''${name}`);
    }
    const body = req.method === "HEAD" ? null : image.bytes as Uint8Array<ArrayBuffer>;
    return new Response(body, { status: 200, headers });
  };

  /** Answers a render route, or null when Storage has no such route. */
  return async function handleRender(req: Request, url: URL, rest: string) {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    const [kind, ...tail] = rest.split("/");
    if (kind !== "public" && kind !== "authenticated" && kind !== "sign") return null;
    if (!deps.enabled) throw ERRORS.tenantFeatureDisabled();
    const { bucket, name } = deps.splitPath(tail.join("/"));
    if (kind === "sign") {
      const claims = await deps.verifySigned(url.searchParams.get("token"), `${bucket}/${name}`);
      const options = transformFromClaim(String(claims.transformations ?? ""));
      const expires = new Date(Number(claims.exp) * 1000).toUTCString();
      return await send(req, url, await deps.superuserObject(bucket, name), options, expires);
    }
    const options = queryOptions(url);
    if (kind === "public") {
      const isPublic = await deps.bucketPublic(bucket);
      if (!isPublic) throw ERRORS.noSuchBucket();
      return await send(req, url, await deps.superuserObject(bucket, name), options);
    }
    const caller = await deps.callerOf(req, url);
    return await send(req, url, await deps.visibleObject(caller, bucket, name), options);
  };
}
