-- Queue statistics for operators: one JSON document, computed when asked (never stored per job).
--
--   vidqueue.stuck_jobs(p_limit int default 50)
--     returns table(id, user_id, kind, model, status, reason, since, attempts, provider_request_id)
--     Jobs that should have moved on by now, oldest first:
--       dispatch_stalled  claimed for dispatch (queued + dispatching_at) more than 60 s ago;
--       overdue_at_fal    at fal (submitted | in_progress) for longer than twice the model's
--                         expected seconds + 60 s;
--       copy_stalled      finalizing (media copy) for more than 120 s.
--     The reconciler heals most of these on its own; the list shows what it has not (yet).
--   vidqueue.queue_stats(p_window_s int default 900, p_stuck_limit int default 20,
--       p_windowed boolean default true) returns jsonb
--     {generated_at, window_seconds, windowed,
--      depth: [{stage, model, count}]   live jobs by stage (queued | retrying | waiting |
--                                       dispatching | submitted | in_progress | finalizing);
--      totals: {<stage>: count, live: count},
--      slots: {in_use, total},           dispatcher slots held vs slot rows (= the largest
--                                       FAL_MAX_CONCURRENCY the dispatcher has used);
--      models: [{model, completed, failed, canceled, failure_rate,
--                queue_p50_ms, queue_p95_ms, total_p50_ms, total_p95_ms}]
--                                       over jobs that finished in the window: time in queue
--                                       = submitted_at - created_at, time to complete =
--                                       completed_at - created_at (completed jobs only);
--      failures: {finished, failed, rate, top_errors: [{code, count}]}  (rate = failed /
--                                       (completed + failed); cancels are the user's choice);
--      credits: {reserved_now, reserved, captured, released}  (reserved_now: held by live jobs
--                                       now; the others: ledger movements in the window);
--      stuck: {count, jobs: [...first p_stuck_limit of stuck_jobs]}}
--     With p_windowed = false only the live parts (depth, totals, slots, credits.reserved_now,
--     stuck) are computed: `models` and `failures` are absent and `credits` holds only
--     reserved_now (the Realtime publisher sends those every second and the rest less often).
--     Batch and story parents are left out (their children are counted). Internal: no admin
--     check (the Realtime publisher calls it); callers on behalf of a user use admin_stats.
--   vidqueue.admin_stats(p_window_s int default 900, p_stuck_limit int default 50) returns jsonb
--     The same after vidqueue.require_admin().
--
-- Cost: the live part reads only non-terminal jobs (the partial indexes on queued and on active
-- jobs), so it grows with the queue, not with history: a few ms with 10 000 queued jobs. The
-- window part reads jobs finished in the window (jobs_finished_idx) and the window's ledger rows
-- (a BRIN index: the ledger is append-only, so it is cheap to keep): tens of ms when the window
-- holds tens of thousands of jobs.

create index jobs_finished_idx on public.jobs (finished_at) where finished_at is not null;
create index credit_ledger_created_brin on public.credit_ledger using brin (created_at);

create function vidqueue.stuck_jobs(p_limit integer default 50)
returns table (
  id uuid, user_id uuid, kind text, model text, status text, reason text, since timestamptz,
  attempts integer, provider_request_id text
)
language sql
stable
set search_path = ''
as $$
  select s.id, s.user_id, s.kind, s.model, s.status, s.reason, s.since, s.attempts,
    s.provider_request_id
  from (
    select j.id, j.user_id, j.kind, j.model, j.status, j.attempts, j.provider_request_id,
      case
        when j.status = 'queued' then 'dispatch_stalled'
        when j.status = 'finalizing' then 'copy_stalled'
        else 'overdue_at_fal'
      end as reason,
      case
        when j.status = 'queued' then j.dispatching_at
        when j.status = 'finalizing' then j.finalizing_at
        else coalesce(j.started_at, j.submitted_at, j.updated_at)
      end as since,
      case
        when j.status = 'queued' then interval '60 seconds'
        when j.status = 'finalizing' then interval '120 seconds'
        else make_interval(secs => 2 * coalesce(j.expected_seconds, m.expected_seconds, 60) + 60)
      end as allowed
    from public.jobs j
    left join public.models m on m.id = j.model
    -- The same predicate as the reconciler's partial index, so it can be used.
    where j.status in ('submitted', 'in_progress', 'finalizing')
      or (j.status = 'queued' and j.dispatching_at is not null)
  ) s
  where s.since + s.allowed < now()
  order by s.since, s.id
  limit greatest(0, coalesce(p_limit, 50))
$$;

create function vidqueue.queue_stats(
  p_window_s integer default 900, p_stuck_limit integer default 20,
  p_windowed boolean default true
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_window integer := greatest(60, least(coalesce(p_window_s, 900), 7 * 86400));
  v_since timestamptz := now() - make_interval(secs => v_window);
  v_depth jsonb;
  v_totals jsonb;
  v_slots jsonb;
  v_models jsonb;
  v_failures jsonb;
  v_top jsonb;
  v_credits jsonb;
  v_stuck jsonb;
  v_stuck_count integer;
begin
  with live as (
    select j.model,
      case
        when j.status <> 'queued' then j.status
        when j.dispatching_at is not null then 'dispatching'
        -- Story children waiting for their inputs (see 20250603000000_pipeline_jobs.sql).
        when j.next_attempt_at = 'infinity'::timestamptz then 'waiting'
        when j.next_attempt_at > now() then 'retrying'
        else 'queued'
      end as stage
    from (
      -- Two branches, each matching a partial index, so history is never scanned.
      select q.model, q.status, q.dispatching_at, q.next_attempt_at, q.kind
      from public.jobs q where q.status = 'queued'
      union all
      select a.model, a.status, a.dispatching_at, a.next_attempt_at, a.kind
      from public.jobs a where a.status in ('submitted', 'in_progress', 'finalizing')
    ) j
    where j.kind not in ('batch', 'story')
  ),
  by_stage_model as (
    select l.stage, l.model, count(*)::integer as n from live l group by l.stage, l.model
  )
  select
    coalesce(jsonb_agg(jsonb_build_object('stage', b.stage, 'model', b.model, 'count', b.n)
      order by b.stage, b.model), '[]'::jsonb),
    jsonb_build_object(
      'queued', coalesce(sum(b.n) filter (where b.stage = 'queued'), 0),
      'retrying', coalesce(sum(b.n) filter (where b.stage = 'retrying'), 0),
      'waiting', coalesce(sum(b.n) filter (where b.stage = 'waiting'), 0),
      'dispatching', coalesce(sum(b.n) filter (where b.stage = 'dispatching'), 0),
      'submitted', coalesce(sum(b.n) filter (where b.stage = 'submitted'), 0),
      'in_progress', coalesce(sum(b.n) filter (where b.stage = 'in_progress'), 0),
      'finalizing', coalesce(sum(b.n) filter (where b.stage = 'finalizing'), 0),
      'live', coalesce(sum(b.n), 0))
  into v_depth, v_totals
  from by_stage_model b;

  select jsonb_build_object(
    'in_use', count(*) filter (where s.job_id is not null),
    'total', count(*))
  into v_slots
  from vidqueue.slots s;

  -- One pass: the count of all stuck jobs and the first p_stuck_limit of them.
  select count(*)::integer,
    coalesce(jsonb_agg(to_jsonb(s) - 'n' order by s.since, s.id)
      filter (where s.n <= greatest(0, coalesce(p_stuck_limit, 20))), '[]'::jsonb)
  into v_stuck_count, v_stuck
  from (
    select t.*, row_number() over (order by t.since, t.id) as n
    from vidqueue.stuck_jobs(1000000) t
  ) s;

  if not coalesce(p_windowed, true) then
    return jsonb_build_object(
      'generated_at', clock_timestamp(),
      'window_seconds', v_window,
      'windowed', false,
      'depth', v_depth,
      'totals', v_totals,
      'slots', v_slots,
      'credits', jsonb_build_object('reserved_now',
        (select coalesce(sum(a.reserved), 0) from public.credit_accounts a)),
      'stuck', jsonb_build_object('count', v_stuck_count, 'jobs', v_stuck));
  end if;

  with finished as (
    select j.model, j.status, j.error_code,
      extract(epoch from (j.submitted_at - j.created_at)) * 1000 as queue_ms,
      case when j.status = 'completed'
        then extract(epoch from (j.completed_at - j.created_at)) * 1000 end as total_ms
    from public.jobs j
    where j.finished_at >= v_since
      and j.kind not in ('batch', 'story')
  ),
  per_model as (
    select f.model,
      count(*) filter (where f.status = 'completed')::integer as completed,
      count(*) filter (where f.status = 'failed')::integer as failed,
      count(*) filter (where f.status = 'canceled')::integer as canceled,
      percentile_cont(0.5) within group (order by f.queue_ms) as queue_p50,
      percentile_cont(0.95) within group (order by f.queue_ms) as queue_p95,
      percentile_cont(0.5) within group (order by f.total_ms) as total_p50,
      percentile_cont(0.95) within group (order by f.total_ms) as total_p95
    from finished f
    group by f.model
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'model', p.model,
      'completed', p.completed,
      'failed', p.failed,
      'canceled', p.canceled,
      'failure_rate', case when p.completed + p.failed > 0
        then round(p.failed::numeric / (p.completed + p.failed), 4) end,
      'queue_p50_ms', round(p.queue_p50::numeric),
      'queue_p95_ms', round(p.queue_p95::numeric),
      'total_p50_ms', round(p.total_p50::numeric),
      'total_p95_ms', round(p.total_p95::numeric)
    ) order by p.model), '[]'::jsonb),
    jsonb_build_object(
      'finished', coalesce(sum(p.completed + p.failed + p.canceled), 0),
      'completed', coalesce(sum(p.completed), 0),
      'failed', coalesce(sum(p.failed), 0),
      'canceled', coalesce(sum(p.canceled), 0),
      'rate', case when coalesce(sum(p.completed + p.failed), 0) > 0
        then round(sum(p.failed)::numeric / sum(p.completed + p.failed), 4) end)
  into v_models, v_failures
  from per_model p;

  select coalesce(jsonb_agg(jsonb_build_object('code', e.code, 'count', e.n)
      order by e.n desc, e.code), '[]'::jsonb)
  into v_top
  from (
    select coalesce(j.error_code, 'unknown') as code, count(*)::integer as n
    from public.jobs j
    where j.finished_at >= v_since and j.status = 'failed' and j.kind not in ('batch', 'story')
    group by 1
    order by 2 desc, 1
    limit 5
  ) e;
  v_failures := v_failures || jsonb_build_object('top_errors', v_top);

  select jsonb_build_object(
    'reserved_now', (select coalesce(sum(a.reserved), 0) from public.credit_accounts a),
    'reserved', coalesce(sum(l.amount) filter (where l.kind = 'reserve'), 0),
    'captured', coalesce(sum(l.amount) filter (where l.kind = 'capture'), 0),
    'released', coalesce(sum(l.amount) filter (where l.kind = 'release'), 0))
  into v_credits
  from public.credit_ledger l
  where l.created_at >= v_since and l.kind <> 'grant';

  return jsonb_build_object(
    'generated_at', clock_timestamp(),
    'window_seconds', v_window,
    'windowed', true,
    'depth', v_depth,
    'totals', v_totals,
    'slots', v_slots,
    'models', v_models,
    'failures', v_failures,
    'credits', v_credits,
    'stuck', jsonb_build_object('count', v_stuck_count, 'jobs', v_stuck));
end
$$;

create function vidqueue.admin_stats(p_window_s integer default 900, p_stuck_limit integer default 50)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform vidqueue.require_admin();
  return vidqueue.queue_stats(p_window_s, p_stuck_limit, true);
end
$$;

revoke all on function
  vidqueue.stuck_jobs(integer),
  vidqueue.queue_stats(integer, integer, boolean),
  vidqueue.admin_stats(integer, integer)
from public, anon, authenticated, service_role;
