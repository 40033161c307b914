-- One lock order for every path that changes several jobs, so load never deadlocks.
--
-- Row locks are always taken in this order within a transaction:
--   1. jobs        - the job rows a call changes; a call that changes several locks them all
--                    first, in id order (vidqueue.jobs_cancel), or takes them with SKIP LOCKED
--                    and never waits for one (job_claim, parent_sync's cascade);
--   2. parents     - a batch/story row, by the child's trigger (vidqueue.parent_sync), after the
--                    child's own row;
--   3. slots       - vidqueue.slots, freed or taken after the job row;
--   4. credits     - public.credit_accounts (reserve, capture, release), last of the row locks
--                    a transition takes; only job_create/parent_create take it before creating
--                    rows, and a row that does not exist yet cannot be waited for;
--   5. singletons  - vidqueue.daily_spend, vidqueue.admin_stats_pulse (SKIP LOCKED).
-- The deadlock this fixes: one statement cancelling many queued jobs of a user (an operator's
-- script, the benchmark's end) held that user's credit account after its first release and then
-- waited for the next job's row, which a webhook's transition held while it waited for the same
-- credit account. vidqueue.jobs_cancel locks every job before the first release.
--
--   vidqueue.jobs_cancel(p_jobs uuid[]) returns setof public.jobs
--     vidqueue.job_cancel for each job (as its owner would: queued ones canceled + released at
--     once, ones at fal get a cancel request), after locking all of them in id order; returns
--     the jobs that changed. For operators (EXECUTE only for the owner).
--   vidqueue.job_claim_uncapped (the claim inside vidqueue.job_claim's daily cap; see
--     20250602000100_daily_credit_cap.sql): this is its current definition. It now claims a
--     candidate only while it is still queued and not dispatching: its cursor reads rows as of
--     its start, so a job canceled by a cascade that this same claim's trigger ran (a sibling of
--     a canceled batch) still looked claimable and was set dispatching while canceled.

create or replace function vidqueue.job_claim_uncapped(
  p_max_concurrency integer, p_user_max_active integer, p_limit integer default 1
)
returns setof public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_slots integer[];
  v_free integer;
  v_over integer;
  v_used integer := 0;
  v_candidate record;
  v_active integer;
  v_job public.jobs;
begin
  if coalesce(p_max_concurrency, 0) < 1 or coalesce(p_limit, 0) < 1 then
    return;
  end if;
  if coalesce((select max(s.slot) from vidqueue.slots s), 0) < p_max_concurrency then
    insert into vidqueue.slots (slot)
    select g from generate_series(1, p_max_concurrency) g
    on conflict (slot) do nothing;
  end if;

  -- Free slots nobody else is claiming right now.
  select array_agg(f.slot order by f.slot) into v_slots
  from (
    select s.slot
    from vidqueue.slots s
    where s.job_id is null and s.slot <= p_max_concurrency
    order by s.slot
    limit p_limit
    for update skip locked
  ) f;
  -- Slots above a lowered concurrency that are still held count against the new limit.
  select count(*) into v_over
  from vidqueue.slots s
  where s.job_id is not null and s.slot > p_max_concurrency;
  v_free := coalesce(array_length(v_slots, 1), 0) - v_over;
  if v_free <= 0 then
    return;
  end if;

  for v_candidate in
    select j.id, j.user_id
    from public.jobs j
    where j.status = 'queued'
      and j.dispatching_at is null
      and j.kind in ('video', 'image', 'audio', 'compose')
      and (j.next_attempt_at is null or j.next_attempt_at <= now())
      and (p_user_max_active is null or (
        select count(*)
        from vidqueue.slots s
        join public.jobs a on a.id = s.job_id
        where a.user_id = j.user_id) < p_user_max_active)
    order by j.priority desc, j.created_at, j.id
    for update of j skip locked
  loop
    exit when v_used >= v_free;
    if p_user_max_active is not null then
      -- Another claimer deciding for the same user: leave that user to it instead of waiting.
      continue when not pg_try_advisory_xact_lock(
        hashtextextended('vidqueue.job_claim:' || v_candidate.user_id::text, 0));
      select count(*) into v_active
      from vidqueue.slots s
      join public.jobs a on a.id = s.job_id
      where a.user_id = v_candidate.user_id;
      continue when v_active >= p_user_max_active;
    end if;
    -- The cursor reads its rows as of its start: a row this very claim changed since (a
    -- parent's cascade, run by the trigger of an earlier claimed sibling, may have canceled it)
    -- still looks queued to it. Claim only what is queued now.
    update public.jobs
    set dispatching_at = now(), attempts = attempts + 1, version = version + 1, updated_at = now()
    where id = v_candidate.id and status = 'queued' and dispatching_at is null
    returning * into v_job;
    continue when not found;
    v_used := v_used + 1;
    update vidqueue.slots
    set job_id = v_candidate.id, claimed_at = now()
    where slot = v_slots[v_used];
    perform vidqueue.log_event(v_job, 'claimed', 'queued',
      jsonb_build_object('slot', v_slots[v_used], 'attempt', v_job.attempts));
    return next v_job;
  end loop;
end
$$;


create function vidqueue.jobs_cancel(p_jobs uuid[])
returns setof public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_target record;
  v_job public.jobs;
begin
  perform 1 from public.jobs j where j.id = any(p_jobs) order by j.id for update;
  for v_target in
    select j.id, j.user_id from public.jobs j where j.id = any(p_jobs) order by j.id
  loop
    v_job := vidqueue.job_cancel(v_target.id, v_target.user_id);
    if v_job.id is not null then
      return next v_job;
    end if;
  end loop;
end
$$;

revoke all on function
  vidqueue.jobs_cancel(uuid[]),
  vidqueue.job_claim_uncapped(integer, integer, integer)
from public, anon, authenticated, service_role;
