-- vidqueue.queue_stats: live depth by stage and model, slots in use, per-model latency and
-- failure rate over the window, top error codes, credit movements and stuck jobs.
begin;
select plan(16);

insert into public.settings (key, value) values ('free_credits_user', '1000')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-fast', 'fal-ai/test/fast', 'video', 'Fast', 10),
  ('t-slow', 'fal-ai/test/slow', 'video', 'Slow', 100);

-- Everything below happens "now"; shifting timestamps afterwards builds the history.
create temp table made (name text primary key, id uuid);
create function pg_temp.make(p_name text, p_model text) returns uuid language plpgsql as $$
declare
  v uuid;
begin
  select (c.job).id into v from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
    'video', p_model, '{"prompt":"x"}', 10, 0, null, null) c;
  insert into made values (p_name, v);
  return v;
end
$$;
select pg_temp.make('q1', 't-fast'), pg_temp.make('q2', 't-fast'), pg_temp.make('q3', 't-slow');
select pg_temp.make('done1', 't-fast'), pg_temp.make('done2', 't-fast'),
  pg_temp.make('bad', 't-fast'), pg_temp.make('atfal', 't-slow'), pg_temp.make('old', 't-fast');
-- Only the jobs meant to run are claimed: park the waiting ones behind a future retry first.
update public.jobs set next_attempt_at = now() + interval '1 hour'
where id in (select id from made where name in ('q1', 'q2', 'q3'));
select count(*) from vidqueue.job_claim(10, null, 10);
update public.jobs set next_attempt_at = null
where id in (select id from made where name in ('q1', 'q2'));

select vidqueue.job_submitted(id, 'req-' || name) from made where name in ('done1', 'done2', 'bad', 'atfal', 'old');
select vidqueue.job_finalizing(id, '{}') from made where name in ('done1', 'done2', 'old');
select vidqueue.job_completed(id, 'x/' || name || '.mp4') from made where name in ('done1', 'done2', 'old');
select vidqueue.job_provider_failed(id, 'provider_error', 'boom') from made where name = 'bad';

-- History: done1 waited 2 s and took 10 s; done2 waited 4 s and took 20 s; bad waited 0 s;
-- `old` finished two hours ago (outside a 15-minute window); `atfal` has been at fal for 10
-- minutes (more than 2 * 100 + 60 s).
update public.jobs set created_at = now() - interval '10 s', submitted_at = now() - interval '8 s'
where id = (select id from made where name = 'done1');
update public.jobs set created_at = now() - interval '20 s', submitted_at = now() - interval '16 s'
where id = (select id from made where name = 'done2');
update public.jobs set finished_at = now() - interval '2 hours'
where id = (select id from made where name = 'old');
update public.credit_ledger set created_at = now() - interval '2 hours'
where job_id = (select id from made where name = 'old');
update public.jobs set submitted_at = now() - interval '10 minutes'
where id = (select id from made where name = 'atfal');

select vidqueue.queue_stats(900, 20) as s \gset

select is((:'s'::jsonb -> 'totals')::jsonb,
  '{"queued":2,"retrying":1,"waiting":0,"dispatching":0,"submitted":1,"in_progress":0,
    "finalizing":0,"live":4}'::jsonb,
  'totals count live jobs by stage (a job waiting for a retry is not queued)');
select is((:'s'::jsonb -> 'depth')::jsonb,
  '[{"stage":"queued","model":"t-fast","count":2},{"stage":"retrying","model":"t-slow","count":1},
    {"stage":"submitted","model":"t-slow","count":1}]'::jsonb,
  'depth is broken down by stage and model');
select is((:'s'::jsonb -> 'slots')::jsonb, '{"in_use":1,"total":10}'::jsonb,
  'the job at fal holds one of the ten slot rows');
select is(jsonb_path_query_array(:'s'::jsonb, '$.models[*].model'), '["t-fast"]'::jsonb,
  'only models with jobs finished in the window are listed');
select is((:'s'::jsonb #> '{models,0}') - 'failure_rate',
  '{"model":"t-fast","completed":2,"failed":1,"canceled":0,"queue_p50_ms":2000,
    "queue_p95_ms":3800,"total_p50_ms":15000,"total_p95_ms":19500}'::jsonb,
  'per model: counts and p50/p95 of time in queue and time to complete');
select is((:'s'::jsonb #>> '{models,0,failure_rate}')::numeric, 0.3333,
  'failure rate = failed / (completed + failed)');
select is((:'s'::jsonb -> 'failures')::jsonb,
  '{"finished":3,"completed":2,"failed":1,"canceled":0,"rate":0.3333,
    "top_errors":[{"code":"provider_error","count":1}]}'::jsonb,
  'failures: totals, rate and top error codes in the window');
select is((:'s'::jsonb -> 'credits')::jsonb,
  '{"reserved_now":40,"reserved":70,"captured":20,"released":10}'::jsonb,
  'credits: held now, and reserved/captured/released in the window (the 2-hour-old job left out)');
select is((:'s'::jsonb #>> '{stuck,count}')::int, 1, 'one stuck job');
select is((:'s'::jsonb #>> '{stuck,jobs,0,reason}'), 'overdue_at_fal', 'overdue at fal');
select is((:'s'::jsonb #>> '{stuck,jobs,0,id}')::uuid, (select id from made where name = 'atfal'),
  'the job that has been at fal for ten minutes');

select is((vidqueue.queue_stats(3 * 3600, 20) #>> '{failures,finished}')::int, 4,
  'a three-hour window includes the old job');
select is((vidqueue.queue_stats(1, 20) ->> 'window_seconds')::int, 60,
  'the window is at least a minute');
select is(
  (select array_agg(k order by k) from jsonb_object_keys(vidqueue.queue_stats(900, 20, false)) k),
  array['credits', 'depth', 'generated_at', 'slots', 'stuck', 'totals', 'window_seconds',
    'windowed'],
  'the live-only document leaves out the window''s figures');
select is(vidqueue.queue_stats(900, 20, false) -> 'totals', :'s'::jsonb -> 'totals',
  'and its live figures are the same');

-- A job claimed long ago and never submitted is stuck as well.
select vidqueue.job_claim(10, null, 1);
update public.jobs set dispatching_at = now() - interval '5 minutes'
where status = 'queued' and dispatching_at is not null;
select is(
  (select array_agg(reason order by reason) from vidqueue.stuck_jobs(10)),
  array['dispatch_stalled', 'overdue_at_fal'],
  'a dispatch that never reached fal is stuck');

select * from finish();
rollback;
