-- Cancel: a queued job is canceled at once and released; a job being submitted or at fal only
-- records the request, and fal's outcome decides: stopped -> canceled + released, completed
-- anyway -> completed and charged once. Only the owner can cancel.
begin;
select plan(19);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.new_job() returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', '{"prompt":"x"}', 10, 0, null, null) c
$$;
create function pg_temp.available() returns int language sql as $$
  select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'
$$;

-- Queued: canceled at once.
select pg_temp.new_job() as queued \gset
select is((vidqueue.job_cancel(:'queued', 'b0000000-0000-4000-8000-000000000002')).id, null,
  'a stranger cannot cancel the job');
select is((select status from public.jobs where id = :'queued'), 'queued', 'it is still queued');
select results_eq(
  format($$ select (j).status, (j).finished_at is not null, (j).version
            from vidqueue.job_cancel(%L, 'a0000000-0000-4000-8000-000000000001') j $$, :'queued'),
  $$ values ('canceled'::text, true, 2) $$,
  'the owner cancels a queued job at once');
select is(pg_temp.available(), 100, 'its credits are released');
select is((select count(*)::int from vidqueue.job_claim(5, 5, 5)), 0,
  'a canceled job is never claimed');

-- At fal, fal stops it: canceled + released.
select pg_temp.new_job() as stopped \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'stopped', 'req-stopped');
select results_eq(
  format($$ select (j).status, (j).cancel_requested_at is not null, (j).provider_request_id
            from vidqueue.job_cancel(%L, 'a0000000-0000-4000-8000-000000000001') j $$, :'stopped'),
  $$ values ('submitted'::text, true, 'req-stopped'::text) $$,
  'a job at fal only records the cancel request (the caller asks fal with the request id)');
select is(pg_temp.available(), 90, 'its credits stay reserved until fal answers');
select is((select kind from public.job_events where job_id = :'stopped' order by id desc limit 1),
  'cancel_requested', 'the request is an event');
select results_eq(
  format($$ select (j).status, (j).error_code from vidqueue.job_provider_failed(%L,
            'canceled_at_provider', 'request cancelled') j $$, :'stopped'),
  $$ values ('canceled'::text, null::text) $$,
  'fal reporting the request stopped ends it canceled, without an error');
select is(pg_temp.available(), 100, 'and releases its credits');

-- At fal, fal completes it anyway: completed and charged once.
select pg_temp.new_job() as finished \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'finished', 'req-finished');
select vidqueue.job_started(:'finished');
select vidqueue.job_cancel(:'finished', 'a0000000-0000-4000-8000-000000000001');
select is((vidqueue.job_finalizing(:'finished', '{}')).status, 'finalizing',
  'fal completing anyway still finalizes');
select is((vidqueue.job_cancel(:'finished', 'a0000000-0000-4000-8000-000000000001')).id, null,
  'a finalizing job cannot be canceled any more');
select is((vidqueue.job_completed(:'finished', 'x.mp4')).status, 'completed', 'and completes');
select is(pg_temp.available(), 90, 'the user is charged for it');
select is((select count(*)::int from public.credit_ledger where job_id = :'finished'
  and kind = 'capture'), 1, 'once');

-- Being submitted (claimed, no request id yet): the request waits for the submit to finish.
select pg_temp.new_job() as dispatching \gset
select vidqueue.job_claim(5, 5, 1);
select is((vidqueue.job_cancel(:'dispatching', 'a0000000-0000-4000-8000-000000000001')).status,
  'queued', 'a job being submitted records the cancel request');
select isnt((vidqueue.job_submitted(:'dispatching', 'req-d')).cancel_requested_at, null,
  'job_submitted returns the request, so the dispatcher cancels at fal');
select is((vidqueue.job_dispatch_failed(:'dispatching', 'e', 'm', now())).id, null,
  'a submitted job is no longer dispatching');

-- A dispatch failure after a cancel request ends the job canceled instead of retrying it.
select pg_temp.new_job() as dispatch_cancel \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_cancel(:'dispatch_cancel', 'a0000000-0000-4000-8000-000000000001');
select is((vidqueue.job_dispatch_failed(:'dispatch_cancel', 'e', 'm', now())).status, 'canceled',
  'a failed submit of a job the user canceled is not retried');

select * from finish();
rollback;
