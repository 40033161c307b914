-- Per-database platform set-up: `postgres` owns the database and the public schema, the API
-- roles may use public, and new objects there are granted to them (RLS is what protects them).
do $$
begin
  execute format('alter database %I owner to postgres', current_database());
  execute format('alter database %I set search_path = "$user", public, extensions',
    current_database());
end
$$;
set search_path = "$user", public, extensions;
alter schema public owner to postgres;
grant usage on schema public to anon, authenticated, service_role;
grant all on schema public to postgres;

alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to anon, authenticated, service_role;
