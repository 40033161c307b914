-- Every transition function from every state: allowed ones change the job (version + 1, the
-- expected new state), all others are no-ops that return NULL and leave the row untouched.
begin;
select plan(102);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 60);
select vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 100000, 'test', 'test:topup');

create temp sequence prio;

-- A new job of the owner driven through the real transitions into p_state. Each new job has the
-- highest priority so far, so job_claim picks it.
create function pg_temp.job_in(p_state text) returns uuid language plpgsql as $$
declare
  v uuid;
  c public.jobs;
  u uuid := 'a0000000-0000-4000-8000-000000000001';
begin
  select (r.job).id into v from vidqueue.job_create(u, 'video', 't-video', '{"prompt":"a cat"}',
    10, nextval('pg_temp.prio')::int, null, null) r;
  if p_state = 'queued' then return v; end if;
  if p_state = 'canceled' then perform vidqueue.job_cancel(v, u); return v; end if;
  select * into c from vidqueue.job_claim(100, null, 1);
  if c.id is distinct from v then raise exception 'claimed % instead of %', c.id, v; end if;
  if p_state = 'dispatching' then return v; end if;
  perform vidqueue.job_submitted(v, 'req-' || v);
  if p_state = 'submitted' then return v; end if;
  if p_state = 'failed' then perform vidqueue.job_failed(v, 'boom', 'it broke'); return v; end if;
  perform vidqueue.job_started(v);
  if p_state = 'in_progress' then return v; end if;
  perform vidqueue.job_finalizing(v, '{"video":{"url":"https://fal.media/x.mp4"}}');
  if p_state = 'finalizing' then return v; end if;
  perform vidqueue.job_completed(v, u || '/' || v || '.mp4');
  if p_state = 'completed' then return v; end if;
  raise exception 'unknown state %', p_state;
end
$$;

create function pg_temp.label(p_id uuid) returns text language sql as $$
  select case when j.status = 'queued' and j.dispatching_at is not null then 'dispatching'
      else j.status end
    || case when j.cancel_requested_at is not null and j.status <> 'canceled' then '+cancel'
      else '' end
    || case when j.deleted_at is not null then '+deleted' else '' end
  from public.jobs j where j.id = p_id
$$;

-- Builds a job in p_state, applies p_fn, and reports 'noop' or the job's new state.
create function pg_temp.apply(p_fn text, p_state text) returns text language plpgsql as $$
declare
  v uuid := pg_temp.job_in(p_state);
  u uuid := 'a0000000-0000-4000-8000-000000000001';
  before public.jobs;
  r public.jobs;
  after public.jobs;
begin
  select * into before from public.jobs j where j.id = v;
  r := case p_fn
    when 'submitted' then vidqueue.job_submitted(v, 'other-' || v)
    when 'started' then vidqueue.job_started(v)
    when 'finalizing' then vidqueue.job_finalizing(v, '{"ok":true}')
    when 'completed' then vidqueue.job_completed(v, 'path.mp4')
    when 'failed' then vidqueue.job_failed(v, 'e', 'failed')
    when 'provider_failed' then vidqueue.job_provider_failed(v, 'e', 'fal error')
    when 'dispatch_failed_retry' then vidqueue.job_dispatch_failed(v, 'e', 'm', now() + interval '1 hour')
    when 'dispatch_failed_final' then vidqueue.job_dispatch_failed(v, 'e', 'm', null)
    when 'requeue' then vidqueue.job_requeue(v, 'e', 'm', now() + interval '1 hour')
    when 'cancel' then vidqueue.job_cancel(v, u)
    when 'delete' then vidqueue.job_delete(v, u)
  end;
  select * into after from public.jobs j where j.id = v;
  if r.id is null then
    if after is distinct from before then return 'changed but returned null'; end if;
    return 'noop';
  end if;
  if after.version <> before.version + 1 then
    return format('version %s -> %s', before.version, after.version);
  end if;
  if r is distinct from after then return 'returned a stale row'; end if;
  return pg_temp.label(v);
end
$$;

create temp table expected (fn text, from_state text, to_state text);
insert into expected (fn, from_state, to_state)
select f.fn, s.state, coalesce(t.to_state, 'noop')
from unnest(array['submitted', 'started', 'finalizing', 'completed', 'failed', 'provider_failed',
  'dispatch_failed_retry', 'dispatch_failed_final', 'requeue', 'cancel', 'delete']) f(fn)
cross join unnest(array['queued', 'dispatching', 'submitted', 'in_progress', 'finalizing',
  'completed', 'failed', 'canceled']) s(state)
left join (values
  ('submitted', 'dispatching', 'submitted'),
  ('started', 'submitted', 'in_progress'),
  ('finalizing', 'dispatching', 'finalizing'),
  ('finalizing', 'submitted', 'finalizing'),
  ('finalizing', 'in_progress', 'finalizing'),
  ('completed', 'finalizing', 'completed'),
  ('failed', 'queued', 'failed'),
  ('failed', 'dispatching', 'failed'),
  ('failed', 'submitted', 'failed'),
  ('failed', 'in_progress', 'failed'),
  ('failed', 'finalizing', 'failed'),
  ('provider_failed', 'dispatching', 'failed'),
  ('provider_failed', 'submitted', 'failed'),
  ('provider_failed', 'in_progress', 'failed'),
  ('dispatch_failed_retry', 'dispatching', 'queued'),
  ('dispatch_failed_final', 'dispatching', 'failed'),
  ('requeue', 'dispatching', 'queued'),
  ('requeue', 'submitted', 'queued'),
  ('requeue', 'in_progress', 'queued'),
  ('cancel', 'queued', 'canceled'),
  ('cancel', 'dispatching', 'dispatching+cancel'),
  ('cancel', 'submitted', 'submitted+cancel'),
  ('cancel', 'in_progress', 'in_progress+cancel'),
  ('delete', 'completed', 'completed+deleted'),
  ('delete', 'failed', 'failed+deleted'),
  ('delete', 'canceled', 'canceled+deleted')
) t(fn, from_state, to_state) on t.fn = f.fn and t.from_state = s.state;

select is((select count(*)::int from expected), 88, 'the matrix covers 11 transitions x 8 states');

select is(pg_temp.apply(e.fn, e.from_state), e.to_state,
  format('%s from %s -> %s', e.fn, e.from_state, e.to_state))
from expected e
order by e.fn, e.from_state;

-- The state machine only ever holds the statuses of the CHECK constraint.
select pg_temp.job_in('queued') as queued_job, pg_temp.job_in('submitted') as submitted_job,
  pg_temp.job_in('failed') as failed_job \gset
select throws_ok(
  format($$ update public.jobs set status = 'running' where id = %L $$, :'queued_job'),
  '23514', null, 'an unknown status is rejected by the CHECK constraint');
select throws_ok(
  format($$ update public.jobs set dispatching_at = now() where id = %L $$, :'submitted_job'),
  '23514', null, 'only a queued job can be dispatching');
select throws_ok(
  format($$ update public.jobs set finished_at = null where id = %L $$, :'failed_job'),
  '23514', null, 'a terminal job has finished_at');
select throws_ok(
  format($$ update public.jobs set deleted_at = now() where id = %L $$, :'submitted_job'),
  '23514', null, 'only a terminal job can be deleted');

-- A second call of each allowed transition is a no-op (duplicates are harmless).
select is(
  (select vidqueue.job_started(j.id) is null from (select pg_temp.job_in('in_progress') id) j),
  true, 'started twice: the second is a no-op');
select is(
  (select (vidqueue.job_cancel(j.id, 'a0000000-0000-4000-8000-000000000001')).id is null
   from (select pg_temp.job_in('canceled') id) j),
  true, 'cancel twice: the second is a no-op');
select is(
  (select (vidqueue.job_cancel(j.id, 'a0000000-0000-4000-8000-000000000001')).id is null
   from (select id from public.jobs where cancel_requested_at is not null and status = 'submitted'
         limit 1) j),
  true, 'a second cancel request for a job at fal is a no-op');
select is(
  (select (vidqueue.job_delete(j.id, 'a0000000-0000-4000-8000-000000000001')).id is null
   from (select id from public.jobs where deleted_at is not null limit 1) j),
  true, 'delete twice: the second is a no-op');
select is(
  (select (vidqueue.job_claim(100, null, 1)).id is not null),
  true, 'claim still works after the matrix');
select is_empty(
  $$ select j.id from public.jobs j
     where j.version <> (select count(*) from public.job_events e where e.job_id = j.id) $$,
  'every change wrote exactly one event: version = number of events');
select is(
  (select vidqueue.job_submitted(gen_random_uuid(), 'x') is null),
  true, 'a transition on an unknown job is a no-op');
select throws_ok(
  $$ select vidqueue.job_submitted(pg_temp.job_in('dispatching'), null) $$,
  'VQ400', null, 'job_submitted needs a request id');
select is(
  (select vidqueue.job_failed(null, 'e', 'm') is null), true, 'a null job id is a no-op');

select * from finish();
rollback;
