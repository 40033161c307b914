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

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}', true);
select is((select count(*)::int from public.jobs), 3, 'the owner sees the parent and its children');
select is(
  (select (vidqueue.job_public(j) ->> 'progress')::int from public.jobs j where j.id = :'parent'),
  :service_progress, 'the owner reads the same progress as the service (50)');
select is(:service_progress, 50, 'one of two equal items done is 50%');
select is(
  (select (vidqueue.job_public(j) -> 'pipeline' ->> 'completed')::int from public.jobs j
   where j.id = :'parent'), 1, 'and the pipeline summary');
select throws_ok(
  format($$ select vidqueue.parent_retry('a0000000-0000-4000-8000-000000000001', %L, 0) $$,
    :'parent'),
  '42501', null, 'users cannot call the pipeline functions directly');

select set_config('request.jwt.claims',
  '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}', true);
select is((select count(*)::int from public.jobs), 0, 'a stranger sees neither parent nor children');
reset role;

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
