-- A submit the provider refused (429/5xx/unreachable) is not a failed attempt: the job goes back
-- to the queue with a capped exponential backoff (honouring Retry-After), keeps its reservation
-- and shows why it waits, without using up max_attempts — until the refusal horizon has passed;
-- then it fails once with `provider_refused` and its credits are released once.
begin;
select plan(31);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
delete from public.settings where key = 'daily_credit_cap';
delete from vidqueue.daily_spend;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, timeout_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 600);

create function pg_temp.new_job() returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', '{"prompt":"x"}', 10, 0, null, null, '{}', null, null, 3) c
$$;
-- Claims the job now (its retry time forced due, as the dispatcher would find it later).
create function pg_temp.claim(p_job uuid) returns integer language plpgsql as $$
declare
  c public.jobs;
begin
  update public.jobs set next_attempt_at = null where id = p_job;
  select * into c from vidqueue.job_claim(10, 10, 1);
  if c.id is distinct from p_job then raise exception 'claimed % instead of %', c.id, p_job; end if;
  return c.dispatch_seq;
end
$$;
create function pg_temp.refuse(p_job uuid, p_retry_after double precision default null)
returns public.jobs language sql as $$
  select vidqueue.job_submit_refused(p_job, j.dispatch_seq, 'provider_unavailable',
    'fal answered 503', p_retry_after, 1000, null)
  from public.jobs j where j.id = p_job
$$;
create function pg_temp.delay_s(p_job uuid) returns double precision language sql as $$
  select extract(epoch from (next_attempt_at - now()))::double precision
  from public.jobs where id = p_job
$$;
create function pg_temp.credits() returns text language sql as $$
  select available || '/' || reserved from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'
$$;

select pg_temp.new_job() as job \gset
select pg_temp.claim(:'job');
select results_eq(
  format($$ select (r).status, (r).attempts, (r).max_attempts, (r).submit_refusals
     from (select pg_temp.refuse(%L) r) s $$, :'job'),
  $$ values ('queued'::text, 0, 3, 1) $$,
  'a refused submit: queued again, the attempt given back, max_attempts untouched');
select ok(pg_temp.delay_s(:'job') between 0.8 and 1.2,
  'retried after the base backoff ± 20 % (1 s here)');
select is((select queue_reason from public.jobs where id = :'job'),
  '{"code":"provider_unavailable","message":"fal answered 503"}'::jsonb,
  'the reason is recorded');
select results_eq(
  format($$ select p -> 'error', p #>> '{queue_reason,code}', p #>> '{queue_reason,message}',
       (p #>> '{queue_reason,retry_at}')::timestamptz = j.next_attempt_at, p ->> 'status'
     from public.jobs j, vidqueue.job_public(j) p where j.id = %L $$, :'job'),
  $$ values ('null'::jsonb, 'provider_unavailable'::text, 'fal answered 503'::text, true,
     'queued'::text) $$,
  'the client sees queued with the reason and when it is retried, and no error');
select is(pg_temp.credits(), '90/10', 'the reservation is kept');
select is((select count(*)::int from vidqueue.slots where job_id = :'job'), 0, 'the slot is freed');
select results_eq(
  format($$ select kind, detail ->> 'refused', detail ->> 'refusal', detail ->> 'code'
     from public.job_events where job_id = %L order by id desc limit 1 $$, :'job'),
  $$ values ('dispatch_failed'::text, 'true'::text, '1'::text, 'provider_unavailable'::text) $$,
  'logged as a refused dispatch');
select is((select count(*)::int from vidqueue.job_claim(10, 10, 5)), 0,
  'not claimed again before its retry time');

select pg_temp.claim(:'job');
select pg_temp.refuse(:'job');
select ok(pg_temp.delay_s(:'job') between 1.6 and 2.4, 'the second refusal waits twice as long');
select pg_temp.claim(:'job');
select pg_temp.refuse(:'job');
select ok(pg_temp.delay_s(:'job') between 3.2 and 4.8, 'the third four times');

select pg_temp.claim(:'job');
select pg_temp.refuse(:'job', 30);
select is(pg_temp.delay_s(:'job'), 30::double precision,
  'Retry-After longer than the backoff is honoured exactly');
select pg_temp.claim(:'job');
select pg_temp.refuse(:'job', 0.5);
select ok(pg_temp.delay_s(:'job') between 12.8 and 19.2,
  'a shorter Retry-After does not shorten the backoff');

select results_eq(
  format($$ select status, attempts, max_attempts, submit_refusals, error_code
     from public.jobs where id = %L $$, :'job'),
  $$ values ('queued'::text, 0, 3, 5, null::text) $$,
  'five refusals in a row: still queued, no attempt used (max_attempts 3)');

-- The backoff is capped at 60 s.
update public.jobs set submit_refusals = 12 where id = :'job';
select pg_temp.claim(:'job');
select pg_temp.refuse(:'job');
select ok(pg_temp.delay_s(:'job') between 48 and 72, 'the backoff is capped at 60 s ± 20 %');

-- A refusal for a dispatch that is not in flight changes nothing.
select pg_temp.claim(:'job') as seq \gset
select is((vidqueue.job_submit_refused(:'job', 99, 'provider_unavailable', 'x')).id, null,
  'a refusal naming another dispatch is a no-op');
select is((vidqueue.job_submit_refused(:'job', :seq - 1, 'provider_unavailable', 'x')).id, null,
  'the late refusal of an earlier dispatch is a no-op');

-- The horizon: the model's timeout_seconds (600 s) since the first refusal of the run.
select is((select (detail ->> 'horizon_at')::timestamptz - j.refused_since
    from public.job_events e join public.jobs j on j.id = e.job_id
    where e.job_id = :'job' and e.kind = 'dispatch_failed' order by e.id desc limit 1),
  interval '600 seconds', 'the horizon defaults to the model''s timeout');
update public.jobs set refused_since = now() - interval '599 seconds' where id = :'job';
select pg_temp.refuse(:'job', 120);
select is(pg_temp.delay_s(:'job'), 1::double precision,
  'the retry is never scheduled past the horizon (one last try at it)');
select pg_temp.claim(:'job');
update public.jobs set refused_since = now() - interval '600 seconds' where id = :'job';
select results_eq(
  format($$ select (r).status, (r).error_code, (r).error_message like 'The provider refused%%',
       (r).queue_reason is null
     from (select pg_temp.refuse(%L) r) s $$, :'job'),
  $$ values ('failed'::text, 'provider_refused'::text, true, true) $$,
  'past the horizon: failed with provider_refused');
select is(pg_temp.credits(), '100/0', 'and the credits are released');
select is((select vidqueue.job_public(j) -> 'queue_reason' from public.jobs j where j.id = :'job'),
  'null'::jsonb, 'a failed job shows no queue reason');
select is((pg_temp.refuse(:'job')).id, null, 'a refusal after the end is a no-op');
select is((select count(*)::int from public.credit_ledger where job_id = :'job' and kind = 'release'),
  1, 'released exactly once');

-- An explicit horizon (SUBMIT_REFUSAL_HORIZON_S) wins over the model's timeout.
select pg_temp.new_job() as short \gset
select pg_temp.claim(:'short');
select is((vidqueue.job_submit_refused(:'short', 1, 'provider_rate_limited', 'fal answered 429',
  null, 1000, 0)).status, 'failed', 'a horizon of 0 s fails at the first refusal');

-- Accepted after refusals: the bookkeeping is cleared.
select pg_temp.new_job() as ok \gset
select pg_temp.claim(:'ok');
select pg_temp.refuse(:'ok');
select pg_temp.claim(:'ok') as okseq \gset
select results_eq(
  format($$ select (r).status, (r).attempts, (r).submit_refusals, (r).refused_since is null,
       (r).queue_reason is null, vidqueue.job_public(r) -> 'queue_reason'
     from (select vidqueue.job_submitted(%L, 'req-ok', %s) r) s $$, :'ok', :okseq),
  $$ values ('submitted'::text, 1, 0, true, true, 'null'::jsonb) $$,
  'accepted: submitted on attempt 1, the refusals forgotten');
select is((pg_temp.refuse(:'ok')).id, null, 'a job at fal is not refused any more');

-- An execution failure still uses an attempt; a refusal after it does not.
select vidqueue.job_requeue(:'ok', 'provider_error', 'runner failed', now());
select pg_temp.claim(:'ok');
select is((pg_temp.refuse(:'ok')).attempts, 1,
  'after one failed run and one refusal, one attempt is used');

-- A cancel requested while the submit was being refused ends the job.
select pg_temp.new_job() as cancel \gset
select pg_temp.claim(:'cancel');
select vidqueue.job_cancel(:'cancel', 'a0000000-0000-4000-8000-000000000001');
select is((pg_temp.refuse(:'cancel')).status, 'canceled', 'refused while canceling: canceled');
select is((select count(*)::int from public.credit_ledger
  where job_id = :'cancel' and kind = 'release'), 1, 'and released once');

-- The daily spend counts each job once, at its first dispatch, whatever the refusals.
select is((select spent from vidqueue.daily_cap_status()), 40,
  'four jobs dispatched (one refused 10 times): 40 credits counted');
select is((select count(*)::int from vidqueue.slots where job_id is not null), 0,
  'no refused or ended job holds a slot');

select * from finish();
rollback;
