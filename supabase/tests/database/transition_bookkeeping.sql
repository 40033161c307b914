-- Each transition bumps version by one, sets its timestamps and writes one job_events row with
-- the states it moved between; a retry clears what belonged to the abandoned attempt.
begin;
select plan(15);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset

select results_eq(
  format($$ select (j).version, (j).dispatching_at is not null from vidqueue.job_claim(5, 5, 1) j $$),
  $$ values (2, true) $$, 'claimed: version 2, dispatching_at set');
select results_eq(
  format($$ select (j).version, (j).submitted_at is not null, (j).dispatching_at is null,
            (j).provider_request_id from vidqueue.job_submitted(%L, 'req-b') j $$, :'job'),
  $$ values (3, true, true, 'req-b'::text) $$, 'submitted: version 3, submitted_at, request id');
select results_eq(
  format($$ select (j).version, (j).started_at is not null from vidqueue.job_started(%L) j $$, :'job'),
  $$ values (4, true) $$, 'in_progress: version 4, started_at');
select results_eq(
  format($$ select (j).version, (j).finalizing_at is not null, (j).result from
            vidqueue.job_finalizing(%L, '{"video":{"url":"https://fal.media/v.mp4"}}') j $$, :'job'),
  $$ values (5, true, '{"video":{"url":"https://fal.media/v.mp4"}}'::jsonb) $$,
  'finalizing: version 5, finalizing_at, the result');
select results_eq(
  format($$ select (j).version, (j).completed_at is not null, (j).finished_at is not null,
            (j).storage_path from vidqueue.job_completed(%L, 'u/j.mp4') j $$, :'job'),
  $$ values (6, true, true, 'u/j.mp4'::text) $$,
  'completed: version 6, completed_at, finished_at, storage path');
select results_eq(
  format($$ select kind, from_status, to_status from public.job_events where job_id = %L
            order by id $$, :'job'),
  $$ values ('created'::text, null::text, 'queued'::text), ('claimed', 'queued', 'queued'),
     ('submitted', 'queued', 'submitted'), ('started', 'submitted', 'in_progress'),
     ('finalizing', 'in_progress', 'finalizing'), ('completed', 'finalizing', 'completed') $$,
  'one event per transition, with from and to states');
select is((select detail ->> 'request_id' from public.job_events where job_id = :'job'
  and kind = 'submitted'), 'req-b', 'events carry details');
select cmp_ok((select updated_at from public.jobs where id = :'job'), '>=',
  (select created_at from public.jobs where id = :'job'), 'updated_at is maintained');

-- Failure records the error.
select (c.job).id as failing from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'failing', 'req-f');
select results_eq(
  format($$ select (j).error_code, (j).error_message, (j).finished_at is not null
            from vidqueue.job_failed(%L, 'provider_error', 'GPU on fire') j $$, :'failing'),
  $$ values ('provider_error'::text, 'GPU on fire'::text, true) $$,
  'failed: the error code and message, finished_at');

-- A requeue clears the abandoned attempt's request and timestamps, keeps the old id in the event.
select (c.job).id as again from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'again', 'req-old');
select vidqueue.job_started(:'again');
select results_eq(
  format($$ select (j).status, (j).provider_request_id, (j).submitted_at, (j).started_at,
            (j).next_attempt_at > now(), (j).error_code
            from vidqueue.job_requeue(%L, 'provider_5xx', 'try later',
              now() + interval '30 seconds') j $$, :'again'),
  $$ values ('queued'::text, null::text, null::timestamptz, null::timestamptz, true, null::text) $$,
  'requeued: back to queued without the old request, with next_attempt_at');
select is((select detail ->> 'request_id' from public.job_events where job_id = :'again'
  and kind = 'requeued'), 'req-old', 'the abandoned request id is kept in the event');
select is((select detail ->> 'code' from public.job_events where job_id = :'again'
  and kind = 'requeued'), 'provider_5xx', 'with the error that caused it');
select is((select count(*)::int from vidqueue.slots where job_id = :'again'), 0,
  'and the slot is free');
select is((select version from public.jobs where id = :'again'), 5,
  'created 1, claimed 2, submitted 3, started 4, requeued 5');
select is(vidqueue.job_by_request('req-old') is null, true,
  'the abandoned request id no longer finds the job');

select * from finish();
rollback;
