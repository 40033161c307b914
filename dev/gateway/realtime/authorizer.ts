/**
 * Private-channel authorisation exactly as Supabase Realtime does it: RLS on `realtime.messages`
 * decides. Inside a transaction that is always rolled back, probe rows are inserted, the session
 * takes the user's role, claims and `realtime.topic`, and then
 * - may read  = the user can SELECT the probe rows back;
 * - may write = the user can INSERT a probe row (in a savepoint; "insufficient privilege" = no).
 * Rolled back, the probes never become messages and their NOTIFY is never delivered.
 */
import postgres from "postgres";
import type { Claims } from "./tokens.ts";

/** Who asks, for which channel name (without the `realtime:` prefix). */
export interface AuthorizationContext {
  topic: string;
  role: string;
  claims: Claims;
  /** Request headers Supabase exposes to policies as `request.headers` (its `x-` headers). */
  headers: Record<string, string>;
}

/** The two permission checks. A policy that errors counts as a refusal, as on Supabase. */
export interface Authorizer {
  /** Whether the user may receive broadcasts on the channel (the join check). */
  canRead(ctx: AuthorizationContext): Promise<boolean>;
  /** Whether the user may send broadcasts on the channel. */
  canWrite(ctx: AuthorizationContext): Promise<boolean>;
}

/** Thrown when the check could not run at all (database unreachable, …), not when it refused. */
export class AuthorizationUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`authorisation check failed: ${cause instanceof Error ? cause.message : cause}`, {
      cause,
    });
    this.name = "AuthorizationUnavailableError";
  }
}

const ROLLBACK = Symbol("rollback");
const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * Creates the authoriser over `sql`, a superuser (or realtime-admin) pool of the project
 * database: it must insert probes regardless of RLS and be allowed to take any API role.
 */
export function createAuthorizer(opts: {
  sql: postgres.Sql;
  log?: (line: string) => void;
}): Authorizer {
  const { sql } = opts;
  const log = opts.log ?? (() => {});

  async function asUser(ctx: AuthorizationContext, tx: postgres.TransactionSql): Promise<void> {
    const sub = typeof ctx.claims.sub === "string" ? ctx.claims.sub : "";
    await tx`select
      set_config('role', ${ctx.role}, true),
      set_config('realtime.topic', ${ctx.topic}, true),
      set_config('request.jwt.claims', ${JSON.stringify(ctx.claims)}, true),
      set_config('request.jwt.claim.sub', ${sub}, true),
      set_config('request.jwt.claim.role', ${ctx.role}, true),
      set_config('request.headers', ${JSON.stringify(ctx.headers)}, true)`;
  }

  /** Runs `fn` in a transaction that is always rolled back; a Postgres error means "refused". */
  async function probe(
    what: string,
    ctx: AuthorizationContext,
    fn: (tx: postgres.TransactionSql) => Promise<boolean>,
  ): Promise<boolean> {
    let result = false;
    try {
      await sql.begin(async (tx) => {
        result = await fn(tx);
        throw ROLLBACK;
      });
    } catch (e) {
      if (e === ROLLBACK) return result;
      if (e instanceof postgres.PostgresError) {
        log(`realtime: ${what} check on "${ctx.topic}" failed in a policy: ${e.message}`);
        return false;
      }
      throw new AuthorizationUnavailableError(e);
    }
    return result;
  }

  return {
    canRead(ctx) {
      return probe("read", ctx, async (tx) => {
        const inserted = await tx<{ id: string; extension: string }[]>`
          insert into realtime.messages (topic, extension)
          values (${ctx.topic}, 'broadcast'), (${ctx.topic}, 'presence')
          returning id::text, extension`;
        const broadcastId = inserted.find((r) => r.extension === "broadcast")!.id;
        await asUser(ctx, tx);
        const visible = await tx<{ id: string }[]>`
          select id::text from realtime.messages
          where topic = ${ctx.topic} and extension = 'broadcast' and id = ${broadcastId}`;
        return visible.length === 1;
      });
    },
    canWrite(ctx) {
      return probe("write", ctx, async (tx) => {
        await asUser(ctx, tx);
        try {
          await tx.savepoint((sp) =>
            sp`insert into realtime.messages (topic, extension) values (${ctx.topic}, 'broadcast')`
          );
          return true;
        } catch (e) {
          if (e instanceof postgres.PostgresError && e.code === INSUFFICIENT_PRIVILEGE) {
            return false;
          }
          throw e;
        }
      });
    },
  };
}
