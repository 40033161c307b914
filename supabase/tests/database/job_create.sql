-- job_create inserts a queued job, reserves its cost in the same transaction (ledger + account)
-- and logs an event; with too few credits it raises VQ402 and writes nothing; it validates the
-- model, parent and retried job.
begin;
select plan(27);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds, enabled) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', 77, true),
  ('t-image', 'fal-ai/test/image', 'image', 'Test image', 5, true),
  ('t-off', 'fal-ai/test/off', 'video', 'Disabled', 60, false);

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

select (c.job).id as job1, c.replayed as replayed1
from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
  '{"prompt":"a red fox"}', 10, 5, null, null) c \gset

select is(:'replayed1'::boolean, false, 'a new job is not a replay');
select results_eq(
  format($$ select status, version, cost, priority, attempts, max_attempts, expected_seconds,
    input ->> 'prompt', dispatching_at is null from public.jobs where id = %L $$, :'job1'),
  $$ values ('queued'::text, 1, 10, 5, 0, 3, 77, 'a red fox'::text, true) $$,
  'the job is queued, version 1, with its cost, priority and the model''s expected seconds');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (90, 10) $$,
  'its cost moved from available to reserved');
select results_eq(
  format($$ select kind, amount from public.credit_ledger where job_id = %L $$, :'job1'),
  $$ values ('reserve'::text, 10) $$,
  'one reserve ledger row for the job');
select results_eq(
  format($$ select kind, from_status, to_status from public.job_events where job_id = %L $$,
    :'job1'),
  $$ values ('created'::text, null::text, 'queued'::text) $$,
  'a created event');

-- Insufficient credits: VQ402, nothing written.
select throws_ok(
  $$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
       '{"prompt":"x"}', 91, 0, null, null) $$,
  'VQ402', null, 'a job costing more than available raises VQ402');
select is(
  pg_temp.error_detail($$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
    'video', 't-video', '{"prompt":"x"}', 91, 0, null, null) $$),
  '90', 'the VQ402 detail is the available balance');
select is((select count(*)::int from public.jobs
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 1, 'no job was written');
select is((select count(*)::int from public.credit_ledger
  where user_id = 'a0000000-0000-4000-8000-000000000001' and kind = 'reserve'), 1,
  'no reserve was written');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (90, 10) $$, 'the account is unchanged');
select lives_ok(
  $$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
       '{"prompt":"x"}', 90, 0, null, null) $$,
  'a job costing exactly the available credits is accepted');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (0, 100) $$, 'available is now zero, never negative');

-- A user without an account cannot reserve anything.
delete from public.credit_accounts where user_id = 'b0000000-0000-4000-8000-000000000002';
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', 't-video',
       '{"prompt":"x"}', 1, 0, null, null) $$,
  'VQ402', null, 'no account: VQ402');
select vidqueue.grant_credits('b0000000-0000-4000-8000-000000000002', 50, 'test', 'test:b');

-- Free jobs reserve nothing.
select (c.job).id as free_job from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'image', 't-image', '{"prompt":"x"}', 0, 0, null, null) c \gset
select is((select count(*)::int from public.credit_ledger where job_id = :'free_job'), 0,
  'a free job has no ledger rows');

-- Validation.
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', 'nope',
       '{}', 1, 0, null, null) $$,
  'VQ404', null, 'an unknown model raises VQ404');
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', 't-off',
       '{}', 1, 0, null, null) $$,
  'VQ404', null, 'a disabled model raises VQ404');
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', 't-image',
       '{}', 1, 0, null, null) $$,
  'VQ400', null, 'a model of another kind raises VQ400');
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', null,
       '{}', 1, 0, null, null) $$,
  'VQ400', null, 'a video job without a model raises VQ400');
select throws_ok(
  $$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video', 't-video',
       '{}', -1, 0, null, null) $$,
  'VQ400', null, 'a negative cost raises VQ400');
select throws_ok(
  format($$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video',
       't-video', '{}', 1, 0, null, null, '{}', %L) $$, :'job1'),
  'VQ404', null, 'another user''s job cannot be the parent');
select throws_ok(
  format($$ select * from vidqueue.job_create('b0000000-0000-4000-8000-000000000002', 'video',
       't-video', '{}', 1, 0, null, null, '{}', null, %L) $$, :'job1'),
  'VQ404', null, 'another user''s job cannot be retried');
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000002'), 50,
  'failed validations reserved nothing');

-- Parents and retries.
select (c.job).id as parent from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'batch', null, '{}', 0, 0, null, null) c \gset
select (c.job).id as child from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'video', 't-video', '{"prompt":"child"}', 10, 0, null, null, '{}', :'parent') c \gset
select is((select parent_id from public.jobs where id = :'child'), :'parent'::uuid,
  'a child job records its parent');
select (c.job).id as retry from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'video', 't-video', '{"prompt":"again"}', 10, 0, null, null, '{}', null, :'child', 5) c \gset
select results_eq(
  format($$ select retry_of, max_attempts from public.jobs where id = %L $$, :'retry'),
  format($$ values (%L::uuid, 5) $$, :'child'),
  'a retry records the job it retries and its own max attempts');
select is((select count(*)::int from public.credit_ledger
  where job_id in (:'child', :'retry') and kind = 'reserve'), 2,
  'a user''s retry is a new job with its own reservation');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'b0000000-0000-4000-8000-000000000002' $$,
  $$ values (30, 20) $$, 'both reservations moved credits');
select is(
  (select count(*)::int from public.jobs where user_id = 'b0000000-0000-4000-8000-000000000002'
     and kind = 'batch' and model is null),
  1, 'a batch parent needs no model');

select * from finish();
rollback;
