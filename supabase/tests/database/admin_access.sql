-- Who is an admin and what admins may read: app_metadata.role = 'admin' in the JWT claims; admins
-- read every job's events and may join `admin:stats`; users may not; the admin SQL functions
-- refuse callers whose claims are not an admin's, and the API roles cannot call them at all.
begin;
select plan(15);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com'),
  ('c0000000-0000-4000-8000-000000000003', 'admin@example.com');
insert into public.models (id, endpoint_id, kind, title) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video');
select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"mine"}', 10, 0, null, null) c \gset

\set owner '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'
\set stranger '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}'
\set admin '{"sub":"c0000000-0000-4000-8000-000000000003","role":"authenticated","app_metadata":{"role":"admin"}}'
\set fake '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated","user_metadata":{"role":"admin"}}'

-- Reads as the functions make them: vidqueue_reader with the caller's claims.
create function pg_temp.count_as(p_claims jsonb, p_query text) returns int language plpgsql as $$
declare
  v int;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  set local role vidqueue_reader;
  execute format('select count(*)::int from (%s) q', p_query) into v;
  reset role;
  return v;
exception when insufficient_privilege then
  reset role;
  return -1;
end
$$;
create function pg_temp.may_read_topic(p_claims jsonb, p_topic text) returns boolean
language plpgsql as $$
declare
  v_id uuid := gen_random_uuid();
  v_seen int;
begin
  insert into realtime.messages (id, topic, extension, event, private)
  values (v_id, p_topic, 'broadcast', 'probe', true);
  perform set_config('request.jwt.claims', p_claims::text, true);
  perform set_config('realtime.topic', p_topic, true);
  execute format('set local role %I', p_claims ->> 'role');
  select count(*)::int into v_seen from realtime.messages where id = v_id;
  reset role;
  return v_seen = 1;
end
$$;
-- Runs p_sql as p_claims' role; the SQLSTATE or 'ok'.
create function pg_temp.run_as(p_claims jsonb, p_sql text) returns text language plpgsql as $$
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute format('set local role %I', p_claims ->> 'role');
  execute p_sql;
  reset role;
  return 'ok';
exception when others then
  reset role;
  return sqlstate;
end
$$;
-- Calls p_sql as `postgres` with p_claims set (what admin-queue does); the SQLSTATE or 'ok'.
create function pg_temp.call_with(p_claims jsonb, p_sql text) returns text language plpgsql as $$
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end
$$;

select is(pg_temp.call_with(:'admin', 'select vidqueue.require_admin()'), 'ok',
  'claims with app_metadata.role = admin are an admin''s');
select is(pg_temp.call_with(:'owner', 'select vidqueue.require_admin()'), '42501',
  'a user is not an admin');
select is(pg_temp.call_with(:'fake', 'select vidqueue.require_admin()'), '42501',
  'user_metadata (which users may edit) does not make an admin');
select is(pg_temp.call_with('{}', 'select vidqueue.admin_stats()'), '42501',
  'admin_stats refuses a caller without claims');
select is(pg_temp.call_with(:'owner', format('select vidqueue.admin_cancel(%L)', :'job')), '42501',
  'admin_cancel refuses a user');
select is(pg_temp.call_with(:'owner', format('select vidqueue.admin_requeue(%L)', :'job')), '42501',
  'admin_requeue refuses a user');
select is((select status from public.jobs where id = :'job'), 'queued', 'and nothing changed');

select is(pg_temp.count_as(:'stranger', format(
  'select id, detail from public.job_events where job_id = %L', :'job')), 0,
  'a stranger reads none of the owner''s job events');
select is(pg_temp.count_as(:'owner', format(
  'select id, detail from public.job_events where job_id = %L', :'job')), 1,
  'the owner reads their job''s events');
select is(pg_temp.count_as(:'admin', format(
  'select id, detail from public.job_events where job_id = %L', :'job')), 1,
  'an admin reads any job''s events');
select is(pg_temp.count_as(:'admin', 'select * from public.jobs'), 0,
  'but not other users'' jobs (the user-facing reads rely on that)');

select is(pg_temp.may_read_topic(:'admin', 'admin:stats'), true, 'an admin may join admin:stats');
select is(pg_temp.may_read_topic(:'owner', 'admin:stats'), false, 'a user may not');

select is(pg_temp.run_as(:'admin', 'select vidqueue.admin_stats()'), '42501',
  'the API roles cannot call the admin functions directly, even as an admin');

select vidqueue.set_admin('b0000000-0000-4000-8000-000000000002');
select vidqueue.set_admin('b0000000-0000-4000-8000-000000000002', true);
select vidqueue.set_admin('a0000000-0000-4000-8000-000000000001', false);
select results_eq(
  $$ select email, raw_app_meta_data ->> 'role' from auth.users
     where id in ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002')
     order by email $$,
  $$ values ('owner@example.com'::varchar, null::text), ('stranger@example.com', 'admin') $$,
  'set_admin promotes (idempotently) and demotes');

select * from finish();
rollback;
