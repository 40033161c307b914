-- Every claim numbers a new dispatch, and a submit's answer is recorded only for the dispatch
-- still in flight: an answer of an earlier dispatch (re-dispatched, canceled, timed out since)
-- changes nothing, so the caller knows to cancel that request at the provider.
begin;
select plan(14);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.new_job() returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', '{"prompt":"x"}', 10, 0, null, null) c
$$;
create function pg_temp.claim() returns public.jobs language sql as $$
  select * from vidqueue.job_claim(10, 10, 1)
$$;

select pg_temp.new_job() as job \gset
select is((select dispatch_seq from public.jobs where id = :'job'), 0, 'a new job has no dispatch');
select is((pg_temp.claim()).dispatch_seq, 1, 'the first claim is dispatch 1');
select is((vidqueue.job_submitted(:'job', 'req-x', 2)).id, null,
  'an answer naming another dispatch is refused');
select vidqueue.job_dispatch_failed(:'job', 'provider_error', 'lost', now(), 1);
select is((pg_temp.claim()).dispatch_seq, 2, 'a re-dispatch is dispatch 2');
select is((vidqueue.job_dispatch_failed(:'job', 'provider_rejected', '422', null, 1)).id, null,
  'a late failure of dispatch 1 does not touch dispatch 2');
select is((vidqueue.job_submitted(:'job', 'req-1', 1)).id, null,
  'the late answer of dispatch 1 is refused while dispatch 2 is in flight');
select results_eq(
  format($$ select status, dispatching_at is not null, provider_request_id
     from public.jobs where id = %L $$, :'job'),
  $$ values ('queued'::text, true, null::text) $$,
  'and changed nothing');
select results_eq(
  format($$ select (r).status, (r).provider_request_id
     from (select vidqueue.job_submitted(%L, 'req-2', 2) r) s $$, :'job'),
  $$ values ('submitted'::text, 'req-2'::text) $$,
  'the answer of the dispatch in flight is recorded');
select is((select detail ->> 'dispatch' from public.job_events
  where job_id = :'job' and kind = 'submitted'), '2', 'the event names the dispatch');
select is((vidqueue.job_submitted(:'job', 'req-2', 2)).id, null, 'a second answer is a no-op');

-- Requeued after a provider failure: the old dispatch's answer no longer fits.
select vidqueue.job_requeue(:'job', 'provider_error', '500', now() + interval '1 hour');
select is((vidqueue.job_submitted(:'job', 'req-late', 2)).id, null,
  'a requeued job takes no answer of its last dispatch (nothing is in flight)');

-- A job that ended while its submit was on the way (canceled by an admin, timed out).
select pg_temp.new_job() as gone \gset
select is((pg_temp.claim()).id, :'gone'::uuid, 'claimed');
select vidqueue.job_failed(:'gone', 'timeout', 'too slow');
select is((vidqueue.job_submitted(:'gone', 'req-g', 1)).id, null,
  'the answer for a job that ended is refused');

-- The two-argument form takes the answer of whichever dispatch is in flight (tests, repair).
select pg_temp.new_job() as loose \gset
select pg_temp.claim();
select is((vidqueue.job_submitted(:'loose', 'req-any')).status, 'submitted',
  'job_submitted(job, request) still records the answer of the dispatch in flight');

select * from finish();
rollback;
