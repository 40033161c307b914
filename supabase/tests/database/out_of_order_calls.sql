-- fal's news can arrive late, early, twice or out of order: completion while we still think
-- the job is `submitted`, a webhook before the request id was stored, duplicates, ERROR after
-- OK. Each case ends in one consistent state with credits moved once.
begin;
select plan(17);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.submitted_job(p_request text) returns uuid language plpgsql as $$
declare
  v uuid;
begin
  select (c.job).id into v from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
    'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c;
  perform vidqueue.job_claim(50, 50, 1);
  if p_request is not null then
    perform vidqueue.job_submitted(v, p_request);
  end if;
  return v;
end
$$;

-- Completion while still submitted (no in_progress seen).
select pg_temp.submitted_job('req-fast') as fast \gset
select is((vidqueue.job_by_request('req-fast')).id, :'fast'::uuid, 'the webhook finds the job by request id');
select is((vidqueue.job_finalizing(:'fast', '{"video":{"url":"u"}}')).status, 'finalizing',
  'a completion arriving while submitted finalizes the job');
select is((vidqueue.job_started(:'fast')).id, null, 'a late in_progress is a no-op');
select is((vidqueue.job_finalizing(:'fast', '{"video":{"url":"other"}}')).id, null,
  'a duplicate OK is a no-op');
select is((select result -> 'video' ->> 'url' from public.jobs where id = :'fast'), 'u',
  'and does not overwrite the first result');
select is((vidqueue.job_provider_failed(:'fast', 'provider_error', 'late ERROR')).id, null,
  'an ERROR after OK is a no-op');
select is((vidqueue.job_completed(:'fast', 'p.mp4')).status, 'completed', 'the job completes');
select is((select count(*)::int from public.credit_ledger where job_id = :'fast' and kind = 'capture'),
  1, 'and is charged once');

-- The webhook arrives before job_submitted stored the request id (matched by job_id).
select pg_temp.submitted_job(null) as early \gset
select results_eq(
  format($$ select (j).status, (j).provider_request_id from vidqueue.job_finalizing(%L, '{}',
            'req-early') j $$, :'early'),
  $$ values ('finalizing'::text, 'req-early'::text) $$,
  'an OK for a job still being submitted finalizes it and records the request id');
select is((vidqueue.job_submitted(:'early', 'req-early')).id, null,
  'the dispatcher''s late job_submitted is then a no-op');
select is((select count(*)::int from vidqueue.slots where job_id = :'early'), 0,
  'and the slot was freed once');

-- An ERROR for a job still being submitted.
select pg_temp.submitted_job(null) as early_error \gset
select results_eq(
  format($$ select (j).status, (j).provider_request_id, (j).error_code from
            vidqueue.job_provider_failed(%L, 'provider_error', 'bad input', 'req-ee') j $$,
    :'early_error'),
  $$ values ('failed'::text, 'req-ee'::text, 'provider_error'::text) $$,
  'an ERROR for a job still being submitted fails it and records the request id');

-- Duplicate submit: the first request id wins.
select pg_temp.submitted_job('req-first') as dup \gset
select is((vidqueue.job_submitted(:'dup', 'req-second')).id, null, 'a second submit is a no-op');
select is((select provider_request_id from public.jobs where id = :'dup'), 'req-first',
  'the stored request id is kept');
select throws_ok(
  format($$ select vidqueue.job_submitted(%L, 'req-first') $$,
    pg_temp.submitted_job(null)),
  '23505', null, 'one fal request id can never belong to two jobs');

-- Start after completion, completion before finalizing.
select pg_temp.submitted_job('req-order') as ord \gset
select is((vidqueue.job_completed(:'ord', 'p.mp4')).id, null,
  'completion before finalizing is a no-op');
select is((select count(*)::int from public.credit_ledger where job_id = :'ord' and kind = 'capture'),
  0, 'and charges nothing');

select * from finish();
rollback;
