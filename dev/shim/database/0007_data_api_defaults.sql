-- Default privileges in `public` exactly as a new hosted project has them, replacing the blanket
-- grants of 0001_platform.sql.
--
-- 1. What the platform's initial schema does (supabase/postgres,
--    migrations/db/init-scripts/00000000000000-initial-schema.sql, run as `postgres` while it was
--    still the superuser, then again for supabase_admin): ALL on new tables, functions and
--    sequences in public to postgres, anon, authenticated and service_role.
-- 2. What project creation then runs (the CLI keeps a copy as RevokeDefaultDataApiPrivilegesSql,
--    apps/cli-go/internal/db/start/start.go): for objects `postgres` creates, take back SELECT,
--    INSERT, UPDATE, DELETE on tables, USAGE, SELECT on sequences and EXECUTE on functions from
--    the three API roles. Nothing more: as on hosted, a new table still gives the API roles
--    TRUNCATE, REFERENCES and TRIGGER, a new sequence UPDATE, and a new function stays executable
--    by PUBLIC (Postgres' own default, which no per-schema default can take back). Migrations
--    grant what they need and revoke the rest.
--
-- The public schema is owned by pg_database_owner, as Postgres 15 creates it and hosted keeps it
-- (the database's owner, postgres, acts as its owner).
alter schema public owner to pg_database_owner;
grant usage on schema public to postgres, anon, authenticated, service_role;

alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- RevokeDefaultDataApiPrivilegesSql, verbatim.
alter default privileges for role postgres in schema public
  revoke select, insert, update, delete on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke usage, select on sequences from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke execute on functions from anon, authenticated, service_role;

-- `extensions` as hosted: postgres may create in it (demote-postgres) and holds what is in it
-- with grant option (20230224042246_grant_extensions_perms_for_postgres).
grant all on schema extensions to postgres;
grant all privileges on all tables in schema extensions to postgres with grant option;
grant all privileges on all routines in schema extensions to postgres with grant option;
grant all privileges on all sequences in schema extensions to postgres with grant option;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on routines to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

-- pg_cron as the platform's grant_pg_cron_access event trigger leaves it
-- (20231020085357_revoke_writes_on_cron_job_from_postgres): postgres reads cron.job but
-- schedules only through cron.schedule()/cron.unschedule(), never by writing the table.
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    grant usage on schema cron to postgres with grant option;
    alter default privileges in schema cron grant all on tables to postgres with grant option;
    alter default privileges in schema cron grant all on functions to postgres with grant option;
    alter default privileges in schema cron grant all on sequences to postgres with grant option;
    grant all privileges on all tables in schema cron to postgres with grant option;
    revoke all on table cron.job from postgres;
    grant select on table cron.job to postgres with grant option;
  end if;
end
$$;
