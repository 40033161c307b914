-- The platform's schemas as hosted has them: auth and storage belong to supabase_admin, so
-- postgres may use them but never hand access to them to a role of its own; realtime's USAGE it
-- may pass on. A project (connected as postgres) may not create or drop tables, functions or
-- indexes in auth, storage or realtime, but may add policies and triggers on their tables.
-- Storage's rows cannot be deleted from SQL unless the Storage API's setting is on.
begin;
select plan(15);

select is(
  (select array_agg(nspname::text || ':' || nspowner::regrole::text order by nspname)
   from pg_namespace where nspname in ('auth', 'storage', 'realtime')),
  array['auth:supabase_admin', 'realtime:supabase_admin', 'storage:supabase_admin'],
  'auth, storage and realtime belong to supabase_admin');
select ok(not has_schema_privilege('postgres', 'auth', 'usage with grant option')
  and not has_schema_privilege('postgres', 'storage', 'usage with grant option'),
  'postgres cannot pass on USAGE of auth or storage');
select ok(has_schema_privilege('postgres', 'realtime', 'usage with grant option'),
  'but may pass on USAGE of realtime');
select ok(has_table_privilege('postgres', 'storage.objects', 'select with grant option'),
  'postgres may grant on storage.objects');

create role shim_probe_role nologin;
set local session authorization postgres;
grant usage on schema storage to shim_probe_role;
reset session authorization;
select ok(not has_schema_privilege('shim_probe_role', 'storage', 'usage'),
  'a grant of USAGE on storage by postgres grants nothing');

set local session authorization postgres;
select throws_ok($$ create table auth.shim_probe (id int) $$, '42501', null,
  'postgres cannot create a table in auth');
select throws_ok($$ create function storage.shim_probe() returns int language sql as 'select 1' $$,
  '42501', null, 'nor a function in storage');
select throws_ok($$ create index shim_probe_idx on realtime.messages (event) $$, '42501', null,
  'nor an index in realtime');
select throws_ok($$ drop function auth.email() $$, '42501', null,
  'nor drop a function of auth');
select lives_ok(
  $$ create policy shim_probe on storage.objects for select to authenticated using (false) $$,
  'but may add a policy on storage.objects');
create function public.shim_probe_trigger() returns trigger language plpgsql as
  'begin return new; end';
select lives_ok(
  $$ create trigger shim_probe after insert on auth.users for each row
     execute function public.shim_probe_trigger() $$,
  'and a trigger on auth.users');
select lives_ok(
  $$ create table public.shim_probe (user_id uuid references auth.users (id) on delete cascade) $$,
  'and a foreign key to auth.users');
select throws_ok($$ delete from storage.objects where name = 'shim-probe' $$, '42501',
  'Direct deletion from storage tables is not allowed. Use the Storage API instead.',
  'nobody deletes storage rows from SQL');
reset session authorization;

select throws_ok($$ delete from storage.buckets where id = 'shim-probe' $$, '42501', null,
  'not even the platform''s superuser');
select set_config('storage.allow_delete_query', 'true', true);
select lives_ok($$ delete from storage.objects where name = 'shim-probe' $$,
  'only with the Storage API''s setting');

select * from finish();
rollback;
