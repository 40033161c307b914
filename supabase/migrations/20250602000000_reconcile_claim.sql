-- The reconciler's view of the jobs: which ones have had no news for too long and must be chased
-- (fal's status/result for jobs at fal, a new submit for a dispatch that never stored its request
-- id, another Storage copy for a job stuck finalizing) or have run past their model's timeout.
--
-- Two bookkeeping columns, not part of the state machine (they do not bump `version`, so nothing
-- is broadcast): `reconcile_checks` counts the checks since the job's last transition and
-- `reconcile_checked_at` is when the latest one was handed out. A transition bumps `updated_at`,
-- which starts a new count: news resets the backoff.
--
-- vidqueue.reconcile_claim(p_grace_s int, p_backoff_s int, p_limit int default 50)
--   returns table(job jsonb, endpoint_id text, timed_out boolean)
--   Hands out up to p_limit due jobs, oldest news first, each locked FOR UPDATE SKIP LOCKED and
--   leased by recording the check in the same statement, so concurrent reconcilers (and the
--   pg_cron schedule overlapping a manual run) never chase the same job twice at once.
--   A job (not a batch or story parent) is considered when it is at fal (`submitted`,
--   `in_progress`), being dispatched (`queued` with `dispatching_at`) or `finalizing`. It is due
--   when
--     * it is past its model's timeout_seconds (measured from this attempt's dispatch for jobs at
--       fal, from finalizing_at for a copy): `timed_out` is true; or
--     * it had no check since its last transition and updated_at + grace has passed, where grace
--       is p_grace_s (WEBHOOK_GRACE_S) or else expected_seconds + 60 for jobs at fal and 60 s for
--       a copy; or
--     * its n-th check (n >= 1) was handed out more than least(backoff * 2^(n-1), 600) seconds
--       ago, where backoff is p_backoff_s, else p_grace_s, else 30.
--   `job` is the row as jsonb (timestamps as ISO strings), `endpoint_id` its model's fal
--   endpoint (also for a model disabled since).

alter table public.jobs
  add column reconcile_checks integer not null default 0 check (reconcile_checks >= 0),
  add column reconcile_checked_at timestamptz;
comment on column public.jobs.reconcile_checks is
  'Reconciler checks since the last transition (bookkeeping; does not bump version).';
comment on column public.jobs.reconcile_checked_at is 'When the reconciler last checked the job.';

-- The reconciler's candidates are few (jobs at fal, being dispatched or copied).
create index jobs_reconcile_idx on public.jobs (updated_at)
  where status in ('submitted', 'in_progress', 'finalizing')
    or (status = 'queued' and dispatching_at is not null);

create function vidqueue.reconcile_claim(
  p_grace_s integer, p_backoff_s integer, p_limit integer default 50
)
returns table (job jsonb, endpoint_id text, timed_out boolean)
language sql
set search_path = ''
as $$
  with candidates as (
    select j.id,
      m.endpoint_id,
      now() > case
        when j.status = 'finalizing' then j.finalizing_at
        else coalesce(j.submitted_at, j.dispatching_at, j.updated_at)
      end + make_interval(secs => coalesce(m.timeout_seconds, 900)) as timed_out,
      case
        when j.reconcile_checked_at is not null and j.reconcile_checked_at > j.updated_at
          then j.reconcile_checks
        else 0
      end as checks,
      case
        when j.status = 'finalizing' then coalesce(p_grace_s, 60)
        else coalesce(p_grace_s, coalesce(j.expected_seconds, m.expected_seconds, 60) + 60)
      end as grace_s,
      j.updated_at,
      j.reconcile_checked_at
    from public.jobs j
    left join public.models m on m.id = j.model
    where (j.status in ('submitted', 'in_progress', 'finalizing')
        or (j.status = 'queued' and j.dispatching_at is not null))
      -- Batch and story parents never run at fal: their status follows their children.
      and j.kind in ('video', 'image', 'audio', 'compose')
  ),
  due as (
    select c.id, c.endpoint_id, c.timed_out, c.checks, c.updated_at, c.reconcile_checked_at
    from candidates c
    where c.timed_out
      or (c.checks = 0 and now() >= c.updated_at + make_interval(secs => c.grace_s))
      or (c.checks > 0 and now() >= c.reconcile_checked_at + make_interval(secs => least(600,
        coalesce(p_backoff_s, p_grace_s, 30) * power(2, least(c.checks - 1, 20))::double precision)))
  ),
  -- Re-checked on the latest row version once locked: a job that changed or was leased by
  -- another reconciler since our snapshot is left alone. Rows locked by someone else are
  -- skipped and do not count against the limit.
  locked as (
    select j.id, d.endpoint_id, d.timed_out, d.checks
    from public.jobs j
    join due d on d.id = j.id
    where j.updated_at = d.updated_at
      and j.reconcile_checked_at is not distinct from d.reconcile_checked_at
      and (j.status in ('submitted', 'in_progress', 'finalizing')
        or (j.status = 'queued' and j.dispatching_at is not null))
    order by d.updated_at
    limit greatest(0, coalesce(p_limit, 50))
    for update of j skip locked
  ),
  leased as (
    update public.jobs j
    set reconcile_checks = l.checks + 1, reconcile_checked_at = now()
    from locked l
    where j.id = l.id
    returning j.*, l.endpoint_id as lease_endpoint_id, l.timed_out as lease_timed_out
  )
  select to_jsonb(r) - 'lease_endpoint_id' - 'lease_timed_out', r.lease_endpoint_id,
    r.lease_timed_out
  from leased r
  order by r.updated_at
$$;

revoke all on function vidqueue.reconcile_claim(integer, integer, integer)
  from public, anon, authenticated, service_role;
