-- Automatic retries: a failed submit goes back to the queue with next_attempt_at while attempts
-- are left (keeping the reservation), and fails for good (releasing it) at max_attempts or when
-- no retry time is given.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null, '{}', null, null, 3) c \gset

create function pg_temp.attempt(p_job uuid) returns text language plpgsql as $$
declare
  c public.jobs;
  r public.jobs;
begin
  update public.jobs set next_attempt_at = null where id = p_job;
  select * into c from vidqueue.job_claim(5, 5, 1);
  if c.id is distinct from p_job then return 'not claimed'; end if;
  r := vidqueue.job_dispatch_failed(p_job, 'provider_5xx', 'bad gateway',
    now() + interval '2 seconds');
  return r.status || '/' || r.attempts || '/' || (r.next_attempt_at is not null);
end
$$;

select is(pg_temp.attempt(:'job'), 'queued/1/true', 'attempt 1 fails: queued again with a retry time');
select is((select count(*)::int from vidqueue.job_claim(5, 5, 1)), 0,
  'not claimed before its retry time');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 90, 'the reservation is kept');
select is(pg_temp.attempt(:'job'), 'queued/2/true', 'attempt 2 fails: queued again');
select is(pg_temp.attempt(:'job'), 'failed/3/false', 'attempt 3 of 3 fails for good');
select results_eq(
  format($$ select error_code, error_message from public.jobs where id = %L $$, :'job'),
  $$ values ('provider_5xx'::text, 'bad gateway'::text) $$, 'with the last error');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 100, 'and the credits are released');
select results_eq(
  format($$ select kind from public.job_events where job_id = %L order by id $$, :'job'),
  $$ values ('created'::text), ('claimed'), ('dispatch_failed'), ('claimed'), ('dispatch_failed'),
     ('claimed'), ('failed') $$,
  'every attempt is in the event log');

-- A non-retryable error (no retry time) fails at once.
select (c.job).id as bad from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset
select vidqueue.job_claim(5, 5, 1);
select is((vidqueue.job_dispatch_failed(:'bad', 'invalid_input', '422 from fal', null)).status,
  'failed', 'a validation error fails on the first attempt');
select is((select count(*)::int from vidqueue.slots where job_id is not null), 0,
  'no slot is left held');

select * from finish();
rollback;
