/**
 * Shapes shared by the Storage routes: who is calling, the rows of `storage.buckets` and
 * `storage.objects`, and the helper that runs a query as the caller so RLS decides.
 */
import type postgres from "postgres";
import type { Claims } from "../jwt.ts";

export type Role = "anon" | "authenticated" | "service_role";

/** The verified caller of a request. */
export interface Caller {
  role: Role;
  claims: Claims;
  sub: string | null;
}

export type Tx = postgres.TransactionSql;

/** Runs `fn` in a transaction as `caller` (role + JWT claims), as Storage does. */
export type AsCaller = <T>(
  caller: Caller,
  operation: string,
  fn: (tx: Tx) => Promise<T>,
) => Promise<T>;

export interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  metadata: Record<string, unknown> | null;
  user_metadata: Record<string, unknown> | null;
  version: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  last_accessed_at: Date | null;
}

export interface BucketRow {
  id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  public: boolean;
  file_size_limit: string | number | null;
  allowed_mime_types: string[] | null;
  created_at: Date | null;
  updated_at: Date | null;
  type: string;
}
