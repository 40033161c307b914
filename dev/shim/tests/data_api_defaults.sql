-- The platform's privileges as a new hosted project has them: default privileges in `public`
-- are the initial schema's grants minus the CLI's RevokeDefaultDataApiPrivilegesSql (no more, no
-- less), and the roles have hosted's attributes, settings and memberships.
begin;
select plan(24);

create function pg_temp.default_acl(p_type "char") returns text[] language sql as $$
  select array_agg(a::text order by a::text)
  from pg_default_acl d, unnest(d.defaclacl) a
  where d.defaclrole = 'postgres'::regrole and d.defaclnamespace = 'public'::regnamespace
    and d.defaclobjtype = p_type
$$;

select is(pg_temp.default_acl('r'),
  array['anon=Dxt/postgres', 'authenticated=Dxt/postgres', 'postgres=arwdDxt/postgres',
    'service_role=Dxt/postgres'],
  'new tables: the API roles keep only TRUNCATE, REFERENCES, TRIGGER (the CLI revokes the rest)');
select is(pg_temp.default_acl('S'),
  array['anon=w/postgres', 'authenticated=w/postgres', 'postgres=rwU/postgres',
    'service_role=w/postgres'],
  'new sequences: the API roles keep only UPDATE');
select is(pg_temp.default_acl('f'), array['postgres=X/postgres'],
  'new functions: no EXECUTE for the API roles by default');

-- What a project migration (connected as postgres) gets.
set local session authorization postgres;
create table public.shim_probe (id bigint generated always as identity primary key, note text);
create function public.shim_probe_fn() returns int language sql as 'select 1';
reset session authorization;

select ok(not has_table_privilege('anon', 'public.shim_probe', 'select')
  and not has_table_privilege('authenticated', 'public.shim_probe', 'select, insert, update, delete')
  and not has_table_privilege('service_role', 'public.shim_probe', 'select'),
  'a new table is neither readable nor writable by the API roles');
select table_privs_are('public', 'shim_probe', 'authenticated',
  array['REFERENCES', 'TRIGGER', 'TRUNCATE'], 'exactly what hosted leaves them on a new table');
select ok(not has_sequence_privilege('anon', 'public.shim_probe_id_seq', 'usage, select')
  and has_sequence_privilege('anon', 'public.shim_probe_id_seq', 'update'),
  'a new sequence: no USAGE or SELECT, UPDATE left');
select ok(has_function_privilege('anon', 'public.shim_probe_fn()', 'execute'),
  'a new function stays executable through PUBLIC, as on hosted');
select is((select c.relacl is not null from pg_class c where c.oid = 'public.shim_probe'::regclass),
  true, 'the default privileges applied');

select is((select nspowner::regrole::text from pg_namespace where nspname = 'public'),
  'pg_database_owner', 'public belongs to pg_database_owner, as Postgres 15 creates it');
select schema_privs_are('public', 'anon', array['USAGE'], 'the API roles may use public');

-- Roles.
select is(
  (select array_agg(rolname::text order by rolname) from pg_roles
   where rolname in ('anon', 'authenticated', 'service_role') and rolinherit),
  array['anon', 'authenticated', 'service_role'], 'the API roles inherit');
select ok(
  (select not rolsuper and rolcreaterole and rolcreatedb and rolbypassrls and rolreplication
   from pg_roles where rolname = 'postgres'),
  'postgres: not a superuser; createrole, createdb, bypassrls, replication');
select is(
  (select array_agg(r.rolname::text || ':' || m.admin_option::text order by r.rolname)
   from pg_auth_members m join pg_roles r on r.oid = m.roleid
   where m.member = 'postgres'::regrole
     and r.rolname in ('anon', 'authenticated', 'service_role')),
  array['anon:false', 'authenticated:false', 'service_role:false'],
  'postgres may switch to the API roles, without ADMIN OPTION');
select ok(pg_has_role('postgres', 'pg_read_all_data', 'member')
  and pg_has_role('postgres', 'pg_signal_backend', 'member')
  and pg_has_role('postgres', 'pg_monitor', 'member'),
  'postgres holds pg_read_all_data, pg_signal_backend, pg_monitor');
select ok(pg_has_role('postgres', 'supabase_auth_admin', 'member')
  and pg_has_role('postgres', 'supabase_storage_admin', 'member'),
  'postgres is a member of the auth and storage admins (triggers, policies)');
select ok(pg_has_role('authenticator', 'anon', 'member')
  and pg_has_role('authenticator', 'authenticated', 'member')
  and pg_has_role('authenticator', 'service_role', 'member')
  and not pg_has_role('authenticator', 'supabase_admin', 'member'),
  'authenticator switches to the API roles only');
select ok(
  (select not rolinherit and rolcanlogin from pg_roles where rolname = 'authenticator'),
  'authenticator logs in and inherits nothing');
select ok(pg_has_role('supabase_storage_admin', 'authenticator', 'member')
  and not pg_has_role('supabase_storage_admin', 'authenticated', 'usage'),
  'Storage switches roles through authenticator');
select ok(pg_has_role('supabase_realtime_admin', 'authenticated', 'member')
  and pg_has_role('supabase_realtime_admin', 'anon', 'member'),
  'Realtime''s admin may take the API roles');
select ok(
  (select rolcanlogin and not rolinherit and rolcreaterole from pg_roles
   where rolname = 'supabase_auth_admin'),
  'supabase_auth_admin: login, noinherit, createrole');

create function pg_temp.role_setting(p_role text, p_name text) returns text language sql as $$
  select split_part(c, '=', 2)
  from pg_db_role_setting s, unnest(s.setconfig) c
  where s.setrole = p_role::regrole and s.setdatabase = 0 and split_part(c, '=', 1) = p_name
$$;
select is(pg_temp.role_setting('anon', 'statement_timeout'), '3s', 'anon: 3 s statement timeout');
select is(pg_temp.role_setting('authenticated', 'statement_timeout'), '8s',
  'authenticated: 8 s statement timeout');
select ok(pg_temp.role_setting('authenticator', 'statement_timeout') = '8s'
  and pg_temp.role_setting('authenticator', 'lock_timeout') = '8s',
  'authenticator: 8 s statement and lock timeouts');

-- pg_cron as the platform's event trigger leaves it (only where pg_cron is installed).
create function pg_temp.cron_ok() returns boolean language plpgsql as $$
begin
  if to_regclass('cron.job') is null then
    return true;
  end if;
  return has_table_privilege('postgres', 'cron.job', 'select')
    and not has_table_privilege('postgres', 'cron.job', 'insert')
    and not has_table_privilege('postgres', 'cron.job', 'update')
    and has_schema_privilege('postgres', 'cron', 'usage with grant option');
end
$$;
select ok(pg_temp.cron_ok(),
  'pg_cron: postgres reads cron.job but writes it only through cron.schedule()');

select * from finish();
rollback;
