-- Canceling a parent cancels its children: queued ones at once with their credits released, ones
-- at fal by a cancel request whose outcome fal decides; the parent ends `canceled` once every
-- child has finished (a child fal completed anyway stays completed and charged). Deleting a
-- finished parent hides its children too.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100);

create function pg_temp.batch(p_n int) returns uuid language sql as $$
  select (c.job).id from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'batch',
    '{"prompt":"batch"}',
    (select jsonb_agg(jsonb_build_object('kind', 'video', 'model', 't-video', 'cost', 10,
      'item', i, 'input', jsonb_build_object('prompt', 'item ' || i)) order by i)
     from generate_series(1, p_n) i), 0, null, null) c
$$;

-- A batch that has not started: everything ends at once.
select pg_temp.batch(2) as waiting \gset
select vidqueue.job_cancel(:'waiting', 'a0000000-0000-4000-8000-000000000001');
select results_eq(
  format($$ select status, count(*)::int from public.jobs where parent_id = %L or id = %L
            group by status $$, :'waiting', :'waiting'),
  $$ values ('canceled'::text, 3) $$, 'a queued batch and its items are canceled at once');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (100, 0) $$, 'and every reservation is released');

-- A running batch: one item at fal, one completed, one queued.
select pg_temp.batch(3) as running \gset
select id as r1 from public.jobs where parent_id = :'running' and item = 1 \gset
select id as r2 from public.jobs where parent_id = :'running' and item = 2 \gset
select id as r3 from public.jobs where parent_id = :'running' and item = 3 \gset
update public.jobs set next_attempt_at = now() + interval '1 hour' where id = :'r3';
select vidqueue.job_claim(10, null, 10);
select vidqueue.job_submitted(:'r1', 'req-c1');
select vidqueue.job_submitted(:'r2', 'req-c2');
select vidqueue.job_finalizing(:'r2', '{"video":{"url":"https://fal.media/2.mp4"}}');
select vidqueue.job_completed(:'r2', 'a0000000-0000-4000-8000-000000000001/2.mp4');
select vidqueue.job_cancel(:'running', 'a0000000-0000-4000-8000-000000000001');

select results_eq(
  format($$ select status, cancel_requested_at is not null, result -> 'active' from public.jobs
            where id = %L $$, :'running'),
  $$ values ('in_progress'::text, true, '1'::jsonb) $$,
  'a running batch waits for fal''s answer about the item it runs');
select results_eq(
  format($$ select item, status, cancel_requested_at is not null from public.jobs
            where parent_id = %L order by item $$, :'running'),
  $$ values (1, 'submitted'::text, true), (2, 'completed', false), (3, 'canceled', true) $$,
  'the item at fal has a cancel request, the queued one is canceled, the done one stays done');

select vidqueue.job_provider_failed(:'r1', 'client_cancelled', 'stopped');
select results_eq(
  format($$ select status, error_code, finished_at is not null from public.jobs where id = %L $$,
    :'running'),
  $$ values ('canceled'::text, null::text, true) $$,
  'when fal confirms, the batch is canceled');
select results_eq(
  format($$ select j.item, l.kind from public.credit_ledger l join public.jobs j on j.id = l.job_id
            where j.parent_id = %L and l.kind <> 'reserve' order by j.item $$, :'running'),
  $$ values (1, 'release'::text), (2, 'capture'), (3, 'release') $$,
  'the completed item is charged, the others released');

-- A batch whose only running item fal completes despite the cancel ends completed.
select pg_temp.batch(1) as late \gset
select id as l1 from public.jobs where parent_id = :'late' \gset
select vidqueue.job_claim(10, null, 1);
select vidqueue.job_submitted(:'l1', 'req-late');
select vidqueue.job_cancel(:'late', 'a0000000-0000-4000-8000-000000000001');
select vidqueue.job_finalizing(:'l1', '{"video":{"url":"https://fal.media/l.mp4"}}');
select vidqueue.job_completed(:'l1', 'a0000000-0000-4000-8000-000000000001/l.mp4');
select is((select status from public.jobs where id = :'late'), 'completed',
  'a cancel that came too late leaves a completed batch');

select vidqueue.job_delete(:'running', 'a0000000-0000-4000-8000-000000000001');
select is((select count(*)::int from public.jobs where parent_id = :'running'
  and deleted_at is null), 0, 'deleting a finished batch hides its items');
select is((select status from public.jobs where id = :'running'), 'canceled',
  'a deleted parent keeps its status');
select is(
  (select count(*)::int from public.job_events e join public.jobs j on j.id = e.job_id
   where j.parent_id = :'running' and e.kind = 'deleted'), 3, 'each hidden item is an event');

select * from finish();
rollback;
