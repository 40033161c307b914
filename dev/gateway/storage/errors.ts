/**
 * Storage API errors as supabase/storage renders them: the body is
 * `{statusCode: "<code>", code, error, message}` and the HTTP status is 400 for every client
 * error (500 for server errors) — the real `statusCode` travels in the body.
 */
import { json } from "../http.ts";

/** A Storage error with its Supabase error code. */
export class StorageError extends Error {
  constructor(
    readonly httpStatusCode: number,
    readonly code: string,
    message: string,
    readonly error?: string,
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
  bucketNotEmpty: () =>
    new StorageError(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty"),
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
  invalidParameter: (name: string, message?: string) =>
    new StorageError(400, "InvalidParameter", message ?? `Invalid Parameter ${name}`),
  missingParameter: (name: string) =>
    new StorageError(400, "MissingParameter", `Missing Required Parameter ${name}`),
  invalidSignature: (message?: string) =>
    new StorageError(400, "InvalidSignature", message ?? "Invalid signature"),
  invalidRange: () =>
    new StorageError(400, "InvalidRange", "invalid range provided", "invalid_range"),
  notFound: () => new StorageError(404, "NotFound", "Route not found", "Not Found"),
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
    err.httpStatusCode === 500 ? 500 : 400,
  );
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
