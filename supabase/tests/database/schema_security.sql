-- Structural guarantees: RLS on every table, functions pinned to an empty search_path, SECURITY
-- DEFINER only where needed (queue_position counts other users' rows; the auth.users triggers and
-- the jobs triggers a user deletion fires run as the service, see
-- 20251207000200_user_deletion.sql), the API roles can call nothing and vidqueue_reader only the
-- read helpers.
begin;
select plan(10);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');

select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity $$,
  'every public table has RLS enabled');
select is_empty(
  $$ select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'vidqueue' and not coalesce('search_path=""' = any (p.proconfig), false) $$,
  'every vidqueue function has search_path = ''''');
create function pg_temp.vidqueue_functions(p_where text) returns text[] language plpgsql as $$
declare
  v text[];
begin
  execute format($q$ select array_agg(p.proname::text order by p.proname::text)
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'vidqueue' and %s $q$, p_where) into v;
  return v;
end
$$;
select is(pg_temp.vidqueue_functions('p.prosecdef'),
  array['admin_stats_on_change', 'broadcast_job', 'on_auth_user_created', 'on_auth_user_deleted',
    'on_auth_user_upgraded', 'queue_position', 'sync_parent_of_job'],
  'only the triggers and queue_position are SECURITY DEFINER');
select is(
  pg_temp.vidqueue_functions($$ has_function_privilege('authenticated', p.oid, 'execute') $$),
  null, 'authenticated may call no vidqueue function');
select is(pg_temp.vidqueue_functions($$ has_function_privilege('anon', p.oid, 'execute') $$),
  null, 'anon may call no vidqueue function');
select is(
  pg_temp.vidqueue_functions($$ has_function_privilege('vidqueue_reader', p.oid, 'execute') $$),
  array['is_admin', 'job_progress', 'job_public', 'queue_position', 'uid'],
  'vidqueue_reader may call only the read helpers');
select is_empty(
  $$ select table_name, privilege_type from information_schema.role_table_grants
     where table_schema = 'public' and grantee in ('anon', 'authenticated')
       and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') $$,
  'the API roles have no write privilege on any public table');
select ok(not has_table_privilege('authenticated', 'public.settings', 'select')
  and not has_table_privilege('anon', 'public.settings', 'select'),
  'the API roles cannot read settings');
select ok(not has_table_privilege('authenticated', 'vidqueue.slots', 'select'),
  'the API roles cannot read the slots');
select throws_ok(
  $$ update public.credit_accounts set available = -1 $$,
  '23514', null, 'a balance can never be negative');

select * from finish();
rollback;
