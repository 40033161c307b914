-- Idempotency: the same user + key + request hash within 24 h returns the existing job
-- (replayed, nothing charged); the same key with a different hash raises VQ409; keys expire
-- after 24 h; keys are per user.
begin;
select plan(14);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.error_detail(p_sql text) returns text language plpgsql as $$
declare
  v_detail text;
begin
  execute p_sql;
  return 'no error';
exception when others then
  get stacked diagnostics v_detail = pg_exception_detail;
  return v_detail;
end
$$;

select (c.job).id as first_job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"fox"}', 10, 0, 'key-1', 'hash-A') c \gset
select (c.job).id as again_job, c.replayed as again_replayed
from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"fox"}', 10, 0, 'key-1', 'hash-A') c \gset

select is(:'again_job'::uuid, :'first_job'::uuid, 'the same key and body return the same job');
select is(:'again_replayed'::boolean, true, 'and say it is a replay');
select is((select count(*)::int from public.jobs
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 1, 'no second job');
select is((select count(*)::int from public.credit_ledger
  where user_id = 'a0000000-0000-4000-8000-000000000001' and kind = 'reserve'), 1,
  'no second reservation');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 90, 'charged once');
select is((select version from public.jobs where id = :'first_job'), 1,
  'a replay does not touch the job');

select throws_ok(
  $$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
       '{"prompt":"wolf"}', 10, 0, 'key-1', 'hash-B') $$,
  'VQ409', null, 'the same key with a different body raises VQ409');
select is(
  pg_temp.error_detail($$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
    'video', 't-video', '{"prompt":"wolf"}', 10, 0, 'key-1', 'hash-B') $$),
  :'first_job', 'the VQ409 detail names the existing job');

-- Keys are per user.
select isnt(
  (select (c.job).id from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video',
     't-video', '{"prompt":"fox"}', 10, 0, 'key-1', 'hash-A') c),
  :'first_job'::uuid, 'another user''s same key is a different job');

-- Without a key nothing is deduplicated.
select isnt(
  (select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
     't-video', '{"prompt":"fox"}', 10, 0, null, 'hash-A') c),
  :'first_job'::uuid, 'no key: a new job');

-- Keys live 24 hours.
update public.jobs set created_at = now() - interval '25 hours' where id = :'first_job';
select (c.job).id as late_job, c.replayed as late_replayed
from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"wolf"}', 10, 0, 'key-1', 'hash-B') c \gset
select isnt(:'late_job'::uuid, :'first_job'::uuid, 'after 24 h the key makes a new job');
select is(:'late_replayed'::boolean, false, 'which is not a replay');
select is((select idempotency_key from public.jobs where id = :'first_job'), null,
  'the expired key was released from the old job');
select is((select idempotency_key from public.jobs where id = :'late_job'), 'key-1',
  'and now belongs to the new job');

select * from finish();
rollback;
