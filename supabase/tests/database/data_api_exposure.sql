-- What the Data API (PostgREST, /rest/v1) would answer, in SQL: PostgREST runs every request as
-- the JWT's role (anon or authenticated, service_role with the secret key) with the claims in
-- request.jwt.claims. Each of them is refused every Vidqueue table, column and function, so
-- what the functions hide (templates.prompt, job_events.detail, jobs.result) stays hidden. The
-- functions' own reads run as vidqueue_reader, a role PostgREST can never take: a user sees only
-- their own rows and only the columns those reads need; an admin every job's events.
begin;
select plan(29);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com'),
  ('c0000000-0000-4000-8000-000000000003', 'admin@example.com');
insert into public.models (id, endpoint_id, kind, title) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video');
insert into public.templates (id, title, prompt, model, default_image_path) values
  ('t-secret', 'Secret', 'the hidden {{X}} prompt', 't-video', 'templates/secret.png');
select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"mine"}', 10, 0, null, null) c \gset
select (c.job).id as gone from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"deleted"}', 10, 0, null, null) c \gset
select (c.job).id as theirs from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'video', 't-video', '{"prompt":"theirs"}', 10, 0, null, null) c \gset
select vidqueue.job_failed(:'gone', 'x', 'x');
select vidqueue.job_delete(:'gone', 'a0000000-0000-4000-8000-000000000001');

\set owner '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'
\set stranger '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}'
\set admin '{"sub":"c0000000-0000-4000-8000-000000000003","role":"authenticated","app_metadata":{"role":"admin"}}'

-- Runs p_sql as p_role with p_claims; the first column of the first row as text, or
-- 'error <SQLSTATE>'.
create function pg_temp.run(p_role text, p_claims jsonb, p_sql text) returns text
language plpgsql as $$
declare
  v text;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute format('set local role %I', p_role);
  execute p_sql into v;
  reset role;
  return coalesce(v, 'null');
exception when others then
  reset role;
  return 'error ' || sqlstate;
end
$$;

-- Every relation in public and vidqueue, as each Data API role: what does a read answer?
create temp table api_answers as
select r.role, format('%I.%I', n.nspname, c.relname) as rel,
  pg_temp.run(r.role, r.claims::jsonb,
    format('select count(*) from (select 1 from %I.%I limit 1) q', n.nspname, c.relname))
    as answer
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join (values
  ('anon', '{"role":"anon"}'),
  ('authenticated', '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'),
  ('service_role', '{"role":"service_role"}')
) r(role, claims)
where n.nspname in ('public', 'vidqueue') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f');
grant select on api_answers to public;

select cmp_ok((select count(distinct rel)::int from api_answers), '>=', 12,
  'every Vidqueue table and sequence is tried');
select is_empty($$ select role, rel, answer from api_answers where answer <> 'error 42501' $$,
  'the Data API roles are refused every table and sequence in public and vidqueue');
select is_empty(
  $$ select r.rolname, p.oid::regprocedure from pg_proc p
     cross join pg_roles r
     where p.pronamespace in ('public'::regnamespace, 'vidqueue'::regnamespace)
       and r.rolname in ('anon', 'authenticated', 'service_role')
       and has_function_privilege(r.oid, p.oid, 'execute') $$,
  'and may execute no function in public or vidqueue');
select ok(not has_schema_privilege('anon', 'vidqueue', 'usage')
  and not has_schema_privilege('authenticated', 'vidqueue', 'usage')
  and not has_schema_privilege('service_role', 'vidqueue', 'usage'),
  'nor use schema vidqueue (POST /rest/v1/rpc/... finds nothing)');
select is(pg_temp.run('authenticated', :'owner', 'select vidqueue.job_public(j) from public.jobs j'),
  'error 42501', 'a signed-in user cannot call a read helper');

-- The holes H2 names, column by column.
select is(pg_temp.run('authenticated', :'owner', 'select prompt from public.templates'),
  'error 42501', 'the hidden template prompt is not readable');
select is(pg_temp.run('anon', '{"role":"anon"}', 'select default_image_path from public.templates'),
  'error 42501', 'nor a template''s start image path');
select is(pg_temp.run('authenticated', :'owner', 'select detail from public.job_events'),
  'error 42501', 'nor job event details');
select is(pg_temp.run('authenticated', :'owner', 'select result from public.jobs'),
  'error 42501', 'nor a job''s fal result');
select is(pg_temp.run('authenticated', :'owner', 'select available from public.credit_accounts'),
  'error 42501', 'nor the credit balance');
select is(pg_temp.run('authenticated', :'owner',
  $$ update public.jobs set status = 'completed' returning id $$),
  'error 42501', 'and nothing is writable');

-- The functions' reads: vidqueue_reader with the user's claims.
select is(pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from public.jobs'), '1',
  'the owner reads their own job, not the one they deleted');
select is(pg_temp.run('vidqueue_reader', :'owner',
  format('select count(*) from public.jobs where id = %L', :'theirs')), '0',
  'nor another user''s');
select is(pg_temp.run('vidqueue_reader', :'stranger', 'select count(*) from public.jobs'), '1',
  'the stranger reads only theirs');
select is(pg_temp.run('vidqueue_reader', '{"role":"anon"}', 'select count(*) from public.jobs'), '0',
  'claims without a user read nothing');
select is(pg_temp.run('vidqueue_reader', :'admin', 'select count(*) from public.jobs'), '0',
  'an admin reads no one else''s jobs');
select is(pg_temp.run('vidqueue_reader', :'owner',
  'select count(*) from (select id, job_id, kind, from_status, to_status, detail, created_at from public.job_events) e'),
  '4', 'the owner reads their jobs'' events (their deleted job''s too: the timeline is theirs)');
select is(pg_temp.run('vidqueue_reader', :'stranger',
  format('select count(*) from (select id from public.job_events where job_id = %L) e', :'job')),
  '0', 'a stranger reads none of them');
select is(pg_temp.run('vidqueue_reader', :'admin',
  format('select count(*) from (select id from public.job_events where job_id = %L) e', :'job')),
  '1', 'an admin reads any job''s events');
select is(pg_temp.run('vidqueue_reader', :'owner', 'select user_id from public.job_events'),
  'error 42501', 'but not the columns the functions never read');
select is(pg_temp.run('vidqueue_reader', :'owner',
  'select available || ''/'' || reserved from public.credit_accounts'), '90/10',
  'the owner reads their own balance');
select is(pg_temp.run('vidqueue_reader', :'stranger',
  $$ select count(*) from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$), '0',
  'a stranger reads no one else''s balance');
select is(pg_temp.run('vidqueue_reader', :'owner', 'select updated_at from public.credit_accounts'),
  'error 42501', 'and not the columns the functions never read');
select is(
  (select array_agg(t order by t) from (values
     (pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from public.credit_ledger')),
     (pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from public.templates')),
     (pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from public.models')),
     (pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from public.settings')),
     (pg_temp.run('vidqueue_reader', :'owner', 'select count(*) from vidqueue.slots'))) v(t)),
  array['error 42501', 'error 42501', 'error 42501', 'error 42501', 'error 42501'],
  'the reader reads nothing else: ledger, catalog, settings, slots');
select is(pg_temp.run('vidqueue_reader', :'owner',
  $$ select vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 5, 'x', 'x') $$),
  'error 42501', 'and calls no write function');
select is(pg_temp.run('vidqueue_reader', :'owner',
  format($$ update public.jobs set status = 'completed' where id = %L returning id $$, :'job')),
  'error 42501', 'nor writes');

-- PostgREST can never become the reader.
select ok(not pg_has_role('authenticator', 'vidqueue_reader', 'member')
  and not pg_has_role('authenticated', 'vidqueue_reader', 'member')
  and not pg_has_role('vidqueue_reader', 'authenticated', 'member'),
  'neither authenticator nor authenticated is a member of vidqueue_reader, nor it of them');
create function pg_temp.authenticator_takes_reader() returns text language plpgsql as $$
begin
  set local session authorization authenticator;
  set local role vidqueue_reader;
  reset session authorization;
  return 'taken';
exception when others then
  reset session authorization;
  return sqlstate;
end
$$;
select is(pg_temp.authenticator_takes_reader(), '42501',
  'a JWT with role vidqueue_reader gets PostgREST nowhere: authenticator cannot switch to it');
select is(
  (select array_agg(r.rolname::text order by r.rolname) from pg_auth_members m
   join pg_roles r on r.oid = m.member where m.roleid = 'vidqueue_reader'::regrole),
  array['postgres'], 'only postgres (the functions) may switch to vidqueue_reader');

select * from finish();
rollback;
