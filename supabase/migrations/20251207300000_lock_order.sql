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
--     once, ones at fal get a cancel request), after locking all of them in id order, then
--     their parents in id order; returns
--     the jobs that changed. For operators (EXECUTE only for the owner).
--   vidqueue.job_claim_uncapped (the claim inside vidqueue.job_claim's daily cap; see
--     20250602000100_daily_credit_cap.sql): this is its current definition. It now claims a
--     candidate only while it is still queued and not dispatching: its cursor reads rows as of
--     its start, so a job canceled by a cascade that this same claim's trigger ran (a sibling of
--     a canceled batch) still looked claimable and was set dispatching while canceled.
--   vidqueue.job_claim_uncapped never cascades: while it runs (transaction setting
--     `vidqueue.claiming`), vidqueue.parent_sync still derives a claimed child's parent but cancels
--     none of its children. A claim takes several jobs in one transaction, and a cascade's credit
--     release there would come before the next job's parent lock. The cascade runs in the claimed
--     job's next transition instead (job_submitted, job_dispatch_failed), one job at a time.
--   vidqueue.parent_sync: its current definition (from 20250603000100_parent_sync.sql), with that
--     one change.
--   vidqueue.job_submitted: its current definition; it now returns the row as the triggers left
--     it, so a cancel cascaded onto the job by its parent (cancel_requested_at) reaches the caller.

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
  perform set_config('vidqueue.claiming', 'on', true);
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
    perform set_config('vidqueue.claiming', '', true);
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
  perform set_config('vidqueue.claiming', '', true);
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
  -- Their parents next (each child's cancel syncs its parent), still before any credits.
  perform 1 from public.jobs p
  where p.id in (select j.parent_id from public.jobs j where j.id = any(p_jobs))
  order by p.id for update;
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


create or replace function vidqueue.parent_sync(p_parent uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_parent public.jobs;
  v_job public.jobs;
  v_first public.jobs;
  v_id uuid;
  v_input jsonb;
  v_n integer;
  v_active integer;
  v_waiting integer;
  v_completed integer;
  v_failed integer;
  v_cost integer;
  v_expected integer;
  v_status text;
  v_from text;
  v_code text;
  v_message text;
  v_path text;
  v_summary jsonb;
  -- Inside vidqueue.job_claim: derive the parent, but cancel no children here (see the header).
  v_claiming boolean := coalesce(current_setting('vidqueue.claiming', true), '') = 'on';
begin
  if p_parent is null
    or coalesce(current_setting('vidqueue.sync_parent', true), '') = p_parent::text then
    return;
  end if;
  select * into v_parent from public.jobs j where j.id = p_parent for update;
  if not found or v_parent.kind not in ('batch', 'story') then
    return;
  end if;
  -- Changes made below to the children (and to the parent) must not sync this parent again.
  perform set_config('vidqueue.sync_parent', p_parent::text, true);

  if v_parent.deleted_at is not null then
    for v_id in
      select c.id from public.jobs c
      where c.parent_id = p_parent and c.deleted_at is null
        and c.status in ('completed', 'failed', 'canceled')
      for update skip locked
    loop
      perform vidqueue.job_delete(v_id, v_parent.user_id);
    end loop;
  elsif v_parent.cancel_requested_at is not null then
    for v_id in
      select c.id from public.jobs c
      where c.parent_id = p_parent and c.cancel_requested_at is null
        and c.status in ('queued', 'submitted', 'in_progress') and not v_claiming
      for update skip locked
    loop
      perform vidqueue.job_cancel(v_id, v_parent.user_id);
    end loop;
  elsif v_parent.kind = 'story' then
    if exists (
      select 1 from vidqueue.current_children(p_parent) c where c.status in ('failed', 'canceled')
    ) then
      for v_id in
        select c.id from public.jobs c
        where c.parent_id = p_parent and c.status = 'queued' and c.cancel_requested_at is null
          and not v_claiming
        for update skip locked
      loop
        perform vidqueue.job_cancel(v_id, v_parent.user_id);
      end loop;
    else
      for v_id in
        select a.id from public.jobs a
        where a.parent_id = p_parent and a.kind = 'audio' and a.status = 'queued'
          and a.next_attempt_at = 'infinity'::timestamptz
          and exists (
            select 1 from public.jobs i
            where i.parent_id = p_parent and i.kind = 'image' and i.item = a.item
              and i.status = 'completed')
        for update of a skip locked
      loop
        perform vidqueue.release_child(v_id, null);
      end loop;
      select c.id into v_id from public.jobs c
      where c.parent_id = p_parent and c.kind = 'compose' and c.status = 'queued'
        and c.next_attempt_at = 'infinity'::timestamptz
      limit 1
      for update skip locked;
      if v_id is not null then
        v_input := vidqueue.story_compose_input(p_parent);
        if v_input is not null then
          perform vidqueue.release_child(v_id, v_input);
        end if;
      end if;
    end if;
  end if;

  select count(*)::integer,
      (count(*) filter (where c.status not in ('completed', 'failed', 'canceled')))::integer,
      (count(*) filter (where c.status = 'queued' and c.dispatching_at is null))::integer,
      (count(*) filter (where c.status = 'completed'))::integer,
      (count(*) filter (where c.status = 'failed'))::integer,
      coalesce(sum(c.cost), 0)::integer,
      coalesce(sum(c.expected_seconds), 0)::integer
    into v_n, v_active, v_waiting, v_completed, v_failed, v_cost, v_expected
  from vidqueue.current_children(p_parent) c;

  v_status := v_parent.status;
  v_code := v_parent.error_code;
  v_message := v_parent.error_message;
  if v_n > 0 and v_parent.status not in ('completed', 'failed', 'canceled') then
    v_status := case
      when v_active > 0 and v_waiting = v_n and v_parent.status = 'queued' then 'queued'
      when v_active > 0 then 'in_progress'
      when v_completed = v_n then 'completed'
      when v_parent.cancel_requested_at is not null or v_failed = 0 then 'canceled'
      else 'failed'
    end;
    v_code := null;
    v_message := null;
    if v_parent.kind = 'story' and v_parent.cancel_requested_at is null then
      select * into v_first from vidqueue.current_children(p_parent) c
      where c.status in ('failed', 'canceled')
      order by c.status = 'canceled', c.finished_at, c.id
      limit 1;
      if v_first.id is not null and v_first.status = 'failed' then
        v_code := case when v_first.kind = 'compose' then 'compose_failed' else 'scene_failed' end;
        v_message := case
          when v_first.kind = 'compose' then 'The scenes could not be joined into one video: '
          else format('Scene %s (%s) failed: ', v_first.item,
            case v_first.kind when 'image' then 'image' else 'narration' end)
        end || coalesce(v_first.error_message, v_first.error_code, 'unknown error');
      end if;
    elsif v_status = 'failed' then
      v_code := 'items_failed';
      v_message := format('%s of %s items failed.', v_failed, v_n);
    end if;
    if v_status = 'completed' and v_parent.kind = 'story' then
      select c.storage_path into v_path from vidqueue.current_children(p_parent) c
      where c.kind = 'compose' and c.status = 'completed'
      limit 1;
    end if;
  end if;
  v_from := v_parent.status;
  v_parent.status := v_status;
  v_summary := vidqueue.parent_summary(v_parent);

  update public.jobs p
  set status = v_status,
    cost = v_cost,
    expected_seconds = nullif(v_expected, 0),
    result = v_summary,
    started_at = case when v_status <> 'queued' then coalesce(p.started_at, now()) end,
    finished_at = case
      when v_status in ('completed', 'failed', 'canceled') then coalesce(p.finished_at, now())
    end,
    completed_at = case when v_status = 'completed' then coalesce(p.completed_at, now()) end,
    storage_path = coalesce(v_path, p.storage_path),
    error_code = v_code,
    error_message = v_message,
    version = p.version + 1,
    updated_at = now()
  where p.id = p_parent
    and (p.status, p.cost, p.expected_seconds, p.result, p.error_code, p.error_message,
      p.storage_path) is distinct from (v_status, v_cost, nullif(v_expected, 0), v_summary,
      v_code, v_message, coalesce(v_path, p.storage_path))
  returning * into v_job;
  if v_job.id is not null and v_job.status <> v_from then
    perform vidqueue.log_event(v_job,
      case v_job.status when 'in_progress' then 'started' else v_job.status end, v_from,
      jsonb_build_object('summary', v_summary));
  end if;
  perform set_config('vidqueue.sync_parent', '', true);
end
$$;

create or replace function vidqueue.job_submitted(p_job uuid, p_request_id text)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_request_id is null then
    raise exception using errcode = 'VQ400', message = 'job_submitted needs a request id';
  end if;
  update public.jobs
  set status = 'submitted', provider_request_id = p_request_id, submitted_at = now(),
    dispatching_at = null, next_attempt_at = null, version = version + 1, updated_at = now()
  where id = p_job and status = 'queued' and dispatching_at is not null
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.log_event(v_job, 'submitted', 'queued',
    jsonb_build_object('request_id', p_request_id));
  -- The row as the triggers left it: a parent's cancel reaching this job now (the claim left it
  -- to this transition) shows as cancel_requested_at, so the caller asks fal to stop.
  select * into v_job from public.jobs j where j.id = p_job;
  return v_job;
end
$$;

revoke all on function
  vidqueue.jobs_cancel(uuid[]),
  vidqueue.job_claim_uncapped(integer, integer, integer),
  vidqueue.parent_sync(uuid),
  vidqueue.job_submitted(uuid, text)
from public, anon, authenticated, service_role;
