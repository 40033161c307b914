-- What hosted Supabase forbids a project in the platform's schemas since 2025-04-21
-- (supabase.com/changelog 34270): in `auth`, `storage` and `realtime` the project (anything
-- connected as `postgres`) may not create tables, functions or indexes, nor drop tables or
-- functions. It may still create foreign keys to their tables, and policies and triggers on
-- auth.users, storage.objects, realtime.messages and the like. Hosted enforces this with supautils;
-- here two event triggers do, for sessions whose user is `postgres` (the platform's own sessions,
-- the shim and the dev gateway, connect as supabase_admin). Postgres itself would allow all of it
-- locally: postgres holds CREATE on auth and storage (as on hosted) and is a member of the roles
-- that own their tables.

create function supabase_shim.guard_platform_schemas_create()
returns event_trigger
language plpgsql
set search_path = ''
as $$
declare
  v_cmd record;
begin
  if session_user <> 'postgres' then
    return;
  end if;
  for v_cmd in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
    if v_cmd.schema_name in ('auth', 'storage', 'realtime') and v_cmd.command_tag in (
      'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE FUNCTION', 'CREATE PROCEDURE',
      'CREATE INDEX', 'CREATE VIEW', 'CREATE MATERIALIZED VIEW', 'CREATE SEQUENCE', 'CREATE TYPE')
    then
      raise exception using errcode = '42501',
        message = format('permission denied to %s %s in schema %s', lower(v_cmd.command_tag),
          v_cmd.object_identity, v_cmd.schema_name),
        hint = 'Hosted Supabase reserves the auth, storage and realtime schemas for its services.';
    end if;
  end loop;
end
$$;

create function supabase_shim.guard_platform_schemas_drop()
returns event_trigger
language plpgsql
set search_path = ''
as $$
declare
  v_obj record;
begin
  if session_user <> 'postgres' then
    return;
  end if;
  for v_obj in select * from pg_catalog.pg_event_trigger_dropped_objects() loop
    if v_obj.schema_name in ('auth', 'storage', 'realtime') and v_obj.original
      and v_obj.object_type in ('table', 'function', 'procedure', 'index', 'view', 'type')
    then
      raise exception using errcode = '42501',
        message = format('permission denied to drop %s %s', v_obj.object_type,
          v_obj.object_identity),
        hint = 'Hosted Supabase reserves the auth, storage and realtime schemas for its services.';
    end if;
  end loop;
end
$$;

revoke all on function supabase_shim.guard_platform_schemas_create() from public;
revoke all on function supabase_shim.guard_platform_schemas_drop() from public;

create event trigger supabase_shim_guard_create on ddl_command_end
  execute function supabase_shim.guard_platform_schemas_create();
create event trigger supabase_shim_guard_drop on sql_drop
  execute function supabase_shim.guard_platform_schemas_drop();
