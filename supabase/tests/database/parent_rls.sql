-- Parents and children are read through RLS like every job: the owner sees the parent, its
-- children and the parent's progress (computed from the children the owner can see); a stranger
-- and anon see nothing; nobody but the service may call the pipeline functions.
begin;
select plan(8);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100);

select (c.job).id as parent from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001',
  'batch', '{"prompt":"two"}', '[
    {"kind":"video","model":"t-video","input":{"prompt":"one"},"cost":10,"item":1},
    {"kind":"video","model":"t-video","input":{"prompt":"two"},"cost":10,"item":2}
  ]', 0, null, null) c \gset
select id as c1 from public.jobs where parent_id = :'parent' and item = 1 \gset
select vidqueue.job_claim(10, null, 10);
select vidqueue.job_submitted(:'c1', 'req-rls');
select vidqueue.job_finalizing(:'c1', '{}');
select vidqueue.job_completed(:'c1', 'a0000000-0000-4000-8000-000000000001/1.mp4');
select (vidqueue.job_public(j) ->> 'progress')::int as service_progress
from public.jobs j where j.id = :'parent' \gset

-- A read as the functions make it for a user: vidqueue_reader with the user's claims. The first
-- column of the first row as text, or 'error <SQLSTATE>'.
create function pg_temp.read_as(p_sub text, p_query text) returns text language plpgsql as $$
declare
  v text;
begin
  perform set_config('request.jwt.claims',
    jsonb_build_object('sub', p_sub, 'role', 'authenticated')::text, true);
  set local role vidqueue_reader;
  execute p_query into v;
  reset role;
  return v;
exception when others then
  reset role;
  return 'error ' || sqlstate;
end
$$;
\set owner a0000000-0000-4000-8000-000000000001
select is(pg_temp.read_as(:'owner', 'select count(*) from public.jobs'), '3',
  'the owner sees the parent and its children');
select is(pg_temp.read_as(:'owner', format(
  'select vidqueue.job_public(j) ->> ''progress'' from public.jobs j where j.id = %L', :'parent')),
  :'service_progress', 'the owner reads the same progress as the service (50)');
select is(:service_progress, 50, 'one of two equal items done is 50%');
select is(pg_temp.read_as(:'owner', format(
  'select vidqueue.job_public(j) -> ''pipeline'' ->> ''completed'' from public.jobs j where j.id = %L',
  :'parent')), '1', 'and the pipeline summary');
select is(pg_temp.read_as(:'owner', format(
  $$ select vidqueue.parent_retry('a0000000-0000-4000-8000-000000000001', %L, 0) $$, :'parent')),
  'error 42501', 'users cannot call the pipeline functions directly');

select is(pg_temp.read_as('b0000000-0000-4000-8000-000000000002', 'select count(*) from public.jobs'),
  '0', 'a stranger sees neither parent nor children');

set local role anon;
select throws_ok($$ select count(*) from public.jobs $$, '42501', null, 'anon cannot read jobs');
reset role;
select is(
  (select count(*)::int from information_schema.role_routine_grants
   where routine_schema = 'vidqueue' and routine_name like 'parent%'
     and grantee in ('anon', 'authenticated', 'service_role', 'PUBLIC')),
  0, 'no API role is granted a pipeline function');

select * from finish();
rollback;
