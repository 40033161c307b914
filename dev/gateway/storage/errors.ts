/**
 * Storage API errors as supabase/storage renders them: the body is
 * `{statusCode: "<code>", code, error, message}` and the HTTP status is 400 for every client
 * error (500 for server errors) — the real `statusCode` travels in the body. A few answers
 * (unknown route, a feature switched off) carry their real HTTP status, as Storage sends them.
 */
import { json } from "../http.ts";

/** A Storage error with its Supabase error code. */
export class StorageError extends Error {
  constructor(
    readonly httpStatusCode: number,
    readonly code: string,
    message: string,
    readonly error?: string,
    /** HTTP status of the answer when it is not Storage's usual 400/500. */
    readonly responseStatus?: number,
  ) {
    super(message);
  }
}

/** The errors the gateway's Storage can answer (names and texts as in supabase/storage). */
export const ERRORS = {
  noSuchBucket: () => new StorageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageError(404, "NoSuchKey", "Object not found", "not_found"),
  invalidKey: (key: string) => new StorageError(400, "InvalidKey", `Invalid key: ${key}`),
  invalidBucketName: () =>
    new StorageError(400, "InvalidBucketName", "Bucket name invalid", "Invalid Input"),
  accessDenied: (message: string) =>
    new StorageError(403, "AccessDenied", message || "Access denied", "Unauthorized"),
  invalidJwt: (message: string) => new StorageError(400, "InvalidJWT", message || "Invalid JWT"),
  alreadyExists: () =>
    new StorageError(409, "ResourceAlreadyExists", "The resource already exists", "Duplicate"),
  bucketAlreadyExists: () =>
    new StorageError(409, "BucketAlreadyExists", "The resource already exists", "Duplicate"),
  bucketNotEmpty: () =>
    new StorageError(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty"),
  unableToEmptyBucket: () =>
    new StorageError(
      409,
      "InvalidRequest",
      "Unable to empty the bucket because it contains too many objects",
    ),
  invalidMimeType: (mime: string) =>
    new StorageError(
      415,
      "InvalidMimeType",
      `mime type ${mime} is not supported`,
      "invalid_mime_type",
    ),
  entityTooLarge: () =>
    new StorageError(
      413,
      "EntityTooLarge",
      "The object exceeded the maximum allowed size",
      "Payload too large",
    ),
  invalidFileSizeLimit: () =>
    new StorageError(
      400,
      "InvalidRequest",
      "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B",
    ),
  noContentProvided: () => new StorageError(400, "InvalidRequest", "No content provided"),
  /** What Fastify's schema validation answers (message like `body/limit must be >= 1`). */
  validation: (message: string) => new StorageError(400, "InvalidRequest", message, "Error"),
  featureNotEnabled: (feature: string) =>
    new StorageError(
      409,
      "FeatureNotEnabled",
      `The feature ${feature} is not enabled for this resource`,
    ),
  /** A project feature switched off (image transformations on a plan or setting without them). */
  tenantFeatureDisabled: () =>
    new StorageError(
      403,
      "FeatureNotEnabled",
      "feature not enabled for this tenant",
      "FeatureNotEnabled",
      403,
    ),
  imageProcessing: (status: number, message: string) =>
    new StorageError(status, status > 499 ? "InternalError" : "InvalidRequest", message),
  invalidParameter: (name: string, message?: string) =>
    new StorageError(400, "InvalidParameter", message ?? `Invalid Parameter ${name}`),
  missingParameter: (name: string) =>
    new StorageError(400, "MissingParameter", `Missing Required Parameter ${name}`),
  invalidSignature: (message?: string) =>
    new StorageError(400, "InvalidSignature", message ?? "Invalid signature"),
  invalidRange: () =>
    new StorageError(400, "InvalidRange", "invalid range provided", "invalid_range"),
  /** Storage's not-found handler: the real 404, `Route <METHOD>:<url> not found`. */
  routeNotFound: (method: string, url: string) =>
    new StorageError(404, "InvalidRequest", `Route ${method}:${url} not found`, "Not Found", 404),
  internal: () => new StorageError(500, "InternalError", "Internal server error"),
};

/** The HTTP answer for a Storage error. */
export function storageErrorResponse(err: StorageError): Response {
  return json(
    {
      statusCode: String(err.httpStatusCode),
      code: err.code,
      error: err.error ?? err.code,
      message: err.message,
    },
    statusOf(err),
  );
}

/** The HTTP status Storage answers a given error with. */
export function statusOf(err: StorageError): number {
  return err.responseStatus ?? (err.httpStatusCode === 500 ? 500 : 400);
}

/** Maps a Postgres error raised by a caller's query to Storage's error (RLS → AccessDenied). */
export function fromDbError(e: unknown): StorageError | null {
  const pg = e as { code?: string; message?: string };
  if (pg.code === "42501") {
    return ERRORS.accessDenied(
      pg.message?.includes("row-level security")
        ? "new row violates row-level security policy"
        : pg.message ?? "",
    );
  }
  if (pg.code === "23505") return ERRORS.alreadyExists();
  if (pg.code === "23503") {
    return new StorageError(404, "InvalidRequest", "The related resource does not exist");
  }
  return null;
}
