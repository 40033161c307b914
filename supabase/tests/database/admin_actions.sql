-- An admin's re-dispatch and cancel of stuck jobs: guarded by state, version bumped, slot freed,
-- credits kept (requeue) or released once (cancel), an event naming the admin.
begin;
select plan(12);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video');
select set_config('request.jwt.claims',
  '{"sub":"c0000000-0000-4000-8000-000000000003","role":"authenticated","app_metadata":{"role":"admin"}}',
  true);

select (c.job).id as atfal from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"a"}', 10, 0, null, null) c \gset
select (c.job).id as waiting from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"b"}', 10, 0, null, null) c \gset
-- Both were created in this transaction (same created_at): make the dispatch order certain.
update public.jobs set created_at = now() + interval '1 second' where id = :'waiting';
select vidqueue.job_claim(5, null, 1);
select vidqueue.job_submitted(:'atfal', 'req-stuck');
update public.jobs set attempts = max_attempts where id = :'atfal';

select results_eq(
  format($$ select status, provider_request_id, version, max_attempts > attempts
            from vidqueue.admin_requeue(%L) $$, :'atfal'),
  $$ values ('queued'::text, null::text, 4, true) $$,
  'a job at fal goes back to the queue with one more attempt and no request id');
select is((select count(*)::int from vidqueue.slots where job_id = :'atfal'::uuid), 0,
  'its slot is freed');
select results_eq(
  format($$ select kind, from_status, detail ->> 'request_id', detail ->> 'admin'
            from public.job_events where job_id = %L order by id desc limit 1 $$, :'atfal'),
  $$ values ('requeued_by_admin'::text, 'submitted'::text, 'req-stuck'::text,
    'c0000000-0000-4000-8000-000000000003'::text) $$,
  'the event keeps the old request id and names the admin');
select is((select reserved from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 20, 'the reservation is kept');
select is((select id from vidqueue.admin_requeue(:'waiting')), null,
  'a job waiting its turn is not re-dispatched (nothing is stuck)');

update public.jobs set next_attempt_at = now() + interval '10 minutes' where id = :'waiting';
select is((select next_attempt_at from vidqueue.admin_requeue(:'waiting')), null,
  'a job waiting for a retry becomes due now');

select results_eq(
  format($$ select status, version > 1 from vidqueue.admin_cancel(%L, 'stuck') $$, :'atfal'),
  $$ values ('canceled'::text, true) $$,
  'admin_cancel cancels a live job');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (90, 10) $$,
  'and releases its credits');
select is((select id from vidqueue.admin_cancel(:'atfal')), null, 'a second cancel is a no-op');
select is((select count(*)::int from public.credit_ledger
  where job_id = :'atfal'::uuid and kind = 'release'), 1, 'released once');
select is((select id from vidqueue.admin_requeue(:'atfal')), null,
  'a terminal job cannot be re-dispatched');
select is((select count(*)::int from public.job_events
  where job_id = :'atfal'::uuid and kind = 'canceled_by_admin' and detail ->> 'reason' = 'stuck'),
  1, 'the cancel is in the timeline with its reason');

select * from finish();
rollback;
