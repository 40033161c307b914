-- The `extensions` schema and the extensions hosted Supabase pre-installs there, plus the
-- test-only ones (pgTAP, dblink) and pg_cron when the server has it preloaded.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant execute on functions to postgres, anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists dblink with schema extensions;

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pgtap') then
    create extension if not exists pgtap with schema extensions;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'plpgsql_check') then
    create extension if not exists plpgsql_check with schema extensions;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_cron')
     and current_setting('shared_preload_libraries') like '%pg_cron%'
     and current_database() = current_setting('cron.database_name', true) then
    create extension if not exists pg_cron;
    grant usage on schema cron to postgres;
    grant all on all tables in schema cron to postgres;
  end if;
end
$$;

grant execute on all functions in schema extensions to postgres, anon, authenticated, service_role;
