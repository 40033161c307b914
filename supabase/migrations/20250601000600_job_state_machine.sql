-- The job state machine: one function per transition, each guarded by the set of states it may
-- leave (otherwise a no-op returning NULL), bumping `version`, setting timestamps, writing a
-- job_events row and moving credits in the same transaction. Credits move at most once per
-- (job, kind): reserve at creation, then capture on completion or release on failure/cancel.
--
-- All functions live in schema `vidqueue` (not exposed to the API; EXECUTE only for their owner
-- `postgres`), run as their caller (the Edge Functions connect as `postgres`) with
-- `search_path = ''`. Custom SQLSTATEs: VQ400 bad arguments, VQ402 insufficient credits,
-- VQ404 unknown model/parent/retried job, VQ409 idempotency conflict, VQ429 rate limited.
-- A function that returns public.jobs returns NULL when nothing changed; note that
-- `select * from f(...)` then yields one row of NULLs: test `id is null`.
--
-- vidqueue.job_create(p_user uuid, p_kind text, p_model text, p_input jsonb, p_cost int,
--     p_priority int, p_idempotency_key text, p_request_hash text, p_limits jsonb default '{}',
--     p_parent uuid default null, p_retry_of uuid default null, p_max_attempts int default 3)
--   returns table(job public.jobs, replayed boolean)
--   Per user, serialised by an advisory lock: (1) idempotency: the same user + key within 24 h
--   returns the existing job with replayed = true and charges nothing if p_request_hash matches,
--   raises VQ409 (DETAIL = existing job id) if it differs; an older key is released for reuse.
--   (2) limits from p_limits {max_queued, submits_per_min} over the user's top-level jobs
--   (parent_id is null) -> VQ429 with the Retry-After seconds as the DETAIL; child jobs
--   (p_parent set) are neither limited nor counted. (3) reserve p_cost with a guarded update
--   (available >= cost) or raise VQ402 (DETAIL = available credits), with nothing written.
--   (4) insert the job (queued), its `reserve` ledger row (when cost > 0) and a `created` event.
--   p_model must be an enabled model of kind p_kind (required unless p_kind is batch | story);
--   p_parent and p_retry_of must be the same user's jobs.
-- vidqueue.job_claim(p_max_concurrency int, p_user_max_active int, p_limit int default 1)
--   returns setof public.jobs
--   Claims up to p_limit queued jobs for dispatch, race-free: a job needs a free row of
--   vidqueue.slots (at most p_max_concurrency held in total, locked FOR UPDATE SKIP LOCKED) and its
--   user must hold fewer than p_user_max_active slots (null = no per-user cap). Order: priority
--   desc, then created_at. Skips jobs with next_attempt_at in the future, jobs already
--   dispatching, and batch/story parents. Sets dispatching_at, attempts + 1; status stays queued.
-- vidqueue.job_submitted(p_job uuid, p_request_id text) returns public.jobs
--   queued + dispatching -> submitted; stores fal's request id. The slot stays held. If the
--   returned job has cancel_requested_at set, the caller should now ask fal to cancel.
-- vidqueue.job_dispatch_failed(p_job uuid, p_code text, p_message text, p_retry_at timestamptz)
--   returns public.jobs
--   queued + dispatching -> frees the slot; back to queued with next_attempt_at = p_retry_at when
--   p_retry_at is not null and attempts < max_attempts (reservation kept), else -> failed + release
--   (-> canceled + release when a cancel was requested).
-- vidqueue.job_requeue(p_job uuid, p_code text, p_message text, p_retry_at timestamptz)
--   returns public.jobs
--   The same for a job already at fal (submitted | in_progress, or dispatching) whose request
--   failed transiently: back to queued (provider_request_id cleared; the old id is kept in the
--   event) or failed/canceled + release when no attempt is left. Frees the slot.
-- vidqueue.job_started(p_job uuid) returns public.jobs
--   submitted -> in_progress.
-- vidqueue.job_finalizing(p_job uuid, p_result jsonb, p_request_id text default null)
--   returns public.jobs
--   submitted | in_progress | queued + dispatching -> finalizing (fal's result arrived, possibly
--   before we saw in_progress or stored the request id); stores the result, records p_request_id
--   if none is stored yet, frees the slot. Completes even when a cancel was requested.
-- vidqueue.job_completed(p_job uuid, p_storage_path text) returns public.jobs
--   finalizing -> completed + capture.
-- vidqueue.job_failed(p_job uuid, p_code text, p_message text, p_request_id text default null)
--   returns public.jobs
--   any non-terminal -> failed + release, or -> canceled + release when cancel_requested_at is
--   set; frees the slot. For our own decisions: timeouts, a Storage copy that failed for good,
--   invalid input found late.
-- vidqueue.job_provider_failed(p_job uuid, p_code text, p_message text,
--     p_request_id text default null) returns public.jobs
--   The same, but only while the job is at fal (queued + dispatching | submitted | in_progress):
--   use it for fal's ERROR (webhook or status), so an ERROR arriving after fal's OK (job already
--   finalizing or completed) is a no-op.
-- vidqueue.job_cancel(p_job uuid, p_user uuid) returns public.jobs
--   Only the owner's job. queued (not dispatching) -> canceled + release at once. queued +
--   dispatching | submitted | in_progress -> sets cancel_requested_at (once); the caller then asks
--   fal to cancel if a request id is stored, and fal's outcome decides (job_provider_failed or
--   job_failed -> canceled + release, or job_finalizing + job_completed -> completed and
--   charged). finalizing and terminal: no-op.
-- vidqueue.job_delete(p_job uuid, p_user uuid) returns public.jobs
--   Only the owner's terminal job: sets deleted_at (hidden from the user's reads); the ledger is
--   untouched. The caller removes the Storage object through the Storage API.
-- vidqueue.job_by_request(p_request_id text) returns public.jobs
--   The job with that fal request id, or NULL.
-- Elsewhere: vidqueue.grant_credits (20250601000400_credits.sql), vidqueue.job_public and
-- vidqueue.queue_position (20250601000500_job_public.sql), vidqueue.model_cost
-- (20250601000100_models.sql), vidqueue.orphan_objects (20250601000900_user_housekeeping.sql).

create function vidqueue.log_event(
  p_job public.jobs, p_kind text, p_from text, p_detail jsonb default '{}'::jsonb
)
returns void
language sql
set search_path = ''
as $$
  insert into public.job_events (job_id, user_id, kind, from_status, to_status, detail)
  values (p_job.id, p_job.user_id, p_kind, p_from, p_job.status, coalesce(p_detail, '{}'::jsonb))
$$;

create function vidqueue.free_slot(p_job uuid)
returns void
language sql
set search_path = ''
as $$
  update vidqueue.slots set job_id = null, claimed_at = null where job_id = p_job
$$;

-- job_create's result as one composite value: the plpgsql body returns this type (a composite
-- OUT column next to another OUT column is something plpgsql_check warns about), and the public
-- signature below unpacks it.
create type vidqueue.job_create_result as (job public.jobs, replayed boolean);

create function vidqueue.job_create_tx(
  p_user uuid,
  p_kind text,
  p_model text,
  p_input jsonb,
  p_cost integer,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_parent uuid default null,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns vidqueue.job_create_result
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
  v_result vidqueue.job_create_result;
  v_expected integer;
  v_model_kind text;
  v_model_enabled boolean;
  v_limit integer;
  v_count integer;
  v_retry_after integer;
  v_available integer;
  v_cost integer := coalesce(p_cost, 0);
begin
  if p_user is null or p_kind is null then
    raise exception using errcode = 'VQ400', message = 'job_create needs a user and a kind';
  end if;
  if v_cost < 0 then
    raise exception using errcode = 'VQ400', message = 'cost must not be negative';
  end if;

  -- One creator at a time per user, so idempotency, limits and the reservation see each other.
  perform pg_advisory_xact_lock(hashtextextended('vidqueue.job_create:' || p_user::text, 0));

  if p_idempotency_key is not null then
    select * into v_job
    from public.jobs j
    where j.user_id = p_user and j.idempotency_key = p_idempotency_key;
    if found then
      if v_job.created_at > now() - interval '24 hours' then
        if v_job.request_hash is not distinct from p_request_hash then
          v_result.job := v_job;
          v_result.replayed := true;
          return v_result;
        end if;
        raise exception using errcode = 'VQ409',
          message = 'idempotency key already used for a different request',
          detail = v_job.id::text;
      end if;
      -- Keys live 24 h: release the old job's key so it can be used again.
      update public.jobs set idempotency_key = null where id = v_job.id;
    end if;
  end if;

  -- Limits are per request: a parent's children are neither limited nor counted.
  v_limit := case when p_parent is null then (p_limits ->> 'max_queued')::integer end;
  if v_limit is not null then
    select count(*) into v_count
    from public.jobs j
    where j.user_id = p_user and j.status = 'queued' and j.parent_id is null;
    if v_count >= v_limit then
      -- Estimate: when the user's first job at fal is expected to be done, freeing room.
      select ceil(min(extract(epoch from (
          coalesce(j.started_at, j.submitted_at, j.dispatching_at, now())
          + make_interval(secs => coalesce(j.expected_seconds, 60)) - now()))))::integer
        into v_retry_after
      from public.jobs j
      where j.user_id = p_user
        and (j.status in ('submitted', 'in_progress') or j.dispatching_at is not null);
      raise exception using errcode = 'VQ429',
        message = format('too many queued jobs (limit %s)', v_limit),
        detail = greatest(1, least(300, coalesce(v_retry_after, 10)))::text;
    end if;
  end if;

  v_limit := case when p_parent is null then (p_limits ->> 'submits_per_min')::integer end;
  if v_limit is not null then
    select count(*) into v_count
    from public.jobs j
    where j.user_id = p_user and j.parent_id is null and j.created_at > now() - interval '1 minute';
    if v_count >= v_limit then
      -- Exact: when enough of the last minute's submits have aged out to allow one more.
      select ceil(extract(epoch from (w.created_at + interval '1 minute' - now())))::integer
        into v_retry_after
      from (
        select j.created_at
        from public.jobs j
        where j.user_id = p_user and j.parent_id is null
          and j.created_at > now() - interval '1 minute'
        order by j.created_at
        offset greatest(0, v_count - v_limit)
        limit 1
      ) w;
      raise exception using errcode = 'VQ429',
        message = format('too many submits per minute (limit %s)', v_limit),
        detail = greatest(1, coalesce(v_retry_after, 60))::text;
    end if;
  end if;

  if p_model is not null then
    select m.kind, m.enabled, m.expected_seconds into v_model_kind, v_model_enabled, v_expected
    from public.models m
    where m.id = p_model;
    if not coalesce(v_model_enabled, false) then
      raise exception using errcode = 'VQ404', message = format('unknown model %s', p_model);
    end if;
    if v_model_kind <> p_kind then
      raise exception using errcode = 'VQ400',
        message = format('model %s makes %s, not %s', p_model, v_model_kind, p_kind);
    end if;
  elsif p_kind not in ('batch', 'story') then
    raise exception using errcode = 'VQ400', message = format('a %s job needs a model', p_kind);
  end if;

  if p_parent is not null and not exists (
    select 1 from public.jobs j where j.id = p_parent and j.user_id = p_user
  ) then
    raise exception using errcode = 'VQ404', message = 'unknown parent job';
  end if;
  if p_retry_of is not null and not exists (
    select 1 from public.jobs j where j.id = p_retry_of and j.user_id = p_user
  ) then
    raise exception using errcode = 'VQ404', message = 'unknown job to retry';
  end if;

  if v_cost > 0 then
    update public.credit_accounts
    set available = available - v_cost, reserved = reserved + v_cost, updated_at = now()
    where user_id = p_user and available >= v_cost;
    if not found then
      select a.available into v_available from public.credit_accounts a where a.user_id = p_user;
      raise exception using errcode = 'VQ402',
        message = format('insufficient credits: %s needed', v_cost),
        detail = coalesce(v_available, 0)::text;
    end if;
  end if;

  insert into public.jobs (
    user_id, parent_id, retry_of, kind, model, input, priority, idempotency_key, request_hash,
    cost, expected_seconds, max_attempts
  ) values (
    p_user, p_parent, p_retry_of, p_kind, p_model, coalesce(p_input, '{}'::jsonb),
    coalesce(p_priority, 0), p_idempotency_key, p_request_hash, v_cost, v_expected,
    coalesce(p_max_attempts, 3)
  )
  returning * into v_job;

  if v_cost > 0 then
    insert into public.credit_ledger (user_id, job_id, kind, amount, reason)
    values (p_user, v_job.id, 'reserve', v_cost, 'job created');
  end if;
  perform vidqueue.log_event(v_job, 'created', null, jsonb_build_object('cost', v_cost));

  v_result.job := v_job;
  v_result.replayed := false;
  return v_result;
end
$$;

create function vidqueue.job_create(
  p_user uuid,
  p_kind text,
  p_model text,
  p_input jsonb,
  p_cost integer,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_parent uuid default null,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns table (job public.jobs, replayed boolean)
language sql
set search_path = ''
as $$
  select r.job, r.replayed
  from vidqueue.job_create_tx(p_user, p_kind, p_model, p_input, p_cost, p_priority,
    p_idempotency_key, p_request_hash, p_limits, p_parent, p_retry_of, p_max_attempts) r
$$;

create function vidqueue.job_claim(
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
    v_used := v_used + 1;
    update vidqueue.slots
    set job_id = v_candidate.id, claimed_at = now()
    where slot = v_slots[v_used];
    update public.jobs
    set dispatching_at = now(), attempts = attempts + 1, version = version + 1, updated_at = now()
    where id = v_candidate.id
    returning * into v_job;
    perform vidqueue.log_event(v_job, 'claimed', 'queued',
      jsonb_build_object('slot', v_slots[v_used], 'attempt', v_job.attempts));
    return next v_job;
  end loop;
end
$$;

create function vidqueue.job_submitted(p_job uuid, p_request_id text)
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
  return v_job;
end
$$;

-- Shared by job_dispatch_failed (p_at_fal = false) and job_requeue (p_at_fal = true): retry
-- later if allowed, else end the job (failed, or canceled when a cancel was requested).
create function vidqueue.retry_or_fail(
  p_job uuid, p_code text, p_message text, p_retry_at timestamptz, p_at_fal boolean
)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_job public.jobs;
  v_to text;
begin
  select * into v_old from public.jobs j where j.id = p_job for update;
  if not found then
    return null;
  end if;
  if not ((v_old.status = 'queued' and v_old.dispatching_at is not null)
      or (p_at_fal and v_old.status in ('submitted', 'in_progress'))) then
    return null;
  end if;
  v_to := case
    when v_old.cancel_requested_at is not null then 'canceled'
    when p_retry_at is not null and v_old.attempts < v_old.max_attempts then 'queued'
    else 'failed'
  end;
  update public.jobs
  set status = v_to,
    dispatching_at = null,
    next_attempt_at = case when v_to = 'queued' then p_retry_at end,
    provider_request_id = case when v_to = 'queued' then null else provider_request_id end,
    submitted_at = case when v_to = 'queued' then null else submitted_at end,
    started_at = case when v_to = 'queued' then null else started_at end,
    error_code = case when v_to = 'failed' then p_code end,
    error_message = case when v_to = 'failed' then p_message end,
    finished_at = case when v_to = 'queued' then null else now() end,
    version = version + 1,
    updated_at = now()
  where id = p_job
  returning * into v_job;
  perform vidqueue.free_slot(p_job);
  if v_to <> 'queued' then
    perform vidqueue.settle_credits(v_job, 'release');
  end if;
  perform vidqueue.log_event(v_job,
    case when v_to = 'queued' then (case when p_at_fal then 'requeued' else 'dispatch_failed' end)
      else v_to end,
    v_old.status,
    jsonb_build_object('code', p_code, 'message', p_message, 'retry_at', p_retry_at,
      'attempt', v_old.attempts, 'request_id', v_old.provider_request_id));
  return v_job;
end
$$;

create function vidqueue.job_dispatch_failed(
  p_job uuid, p_code text, p_message text, p_retry_at timestamptz
)
returns public.jobs
language sql
set search_path = ''
as $$
  select vidqueue.retry_or_fail(p_job, p_code, p_message, p_retry_at, false)
$$;

create function vidqueue.job_requeue(
  p_job uuid, p_code text, p_message text, p_retry_at timestamptz
)
returns public.jobs
language sql
set search_path = ''
as $$
  select vidqueue.retry_or_fail(p_job, p_code, p_message, p_retry_at, true)
$$;

create function vidqueue.job_started(p_job uuid)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  update public.jobs
  set status = 'in_progress', started_at = now(), version = version + 1, updated_at = now()
  where id = p_job and status = 'submitted'
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.log_event(v_job, 'started', 'submitted');
  return v_job;
end
$$;

create function vidqueue.job_finalizing(p_job uuid, p_result jsonb, p_request_id text default null)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_from text;
  v_job public.jobs;
begin
  select j.status into v_from from public.jobs j where j.id = p_job for update;
  update public.jobs
  set status = 'finalizing', result = p_result, finalizing_at = now(),
    provider_request_id = coalesce(provider_request_id, p_request_id),
    submitted_at = coalesce(submitted_at, now()), dispatching_at = null,
    version = version + 1, updated_at = now()
  where id = p_job
    and (status in ('submitted', 'in_progress') or (status = 'queued' and dispatching_at is not null))
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.free_slot(p_job);
  perform vidqueue.log_event(v_job, 'finalizing', v_from,
    jsonb_build_object('request_id', v_job.provider_request_id));
  return v_job;
end
$$;

create function vidqueue.job_completed(p_job uuid, p_storage_path text)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  update public.jobs
  set status = 'completed', storage_path = p_storage_path, completed_at = now(),
    finished_at = now(), version = version + 1, updated_at = now()
  where id = p_job and status = 'finalizing'
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.settle_credits(v_job, 'capture');
  perform vidqueue.log_event(v_job, 'completed', 'finalizing',
    jsonb_build_object('storage_path', p_storage_path));
  return v_job;
end
$$;

-- Shared by job_failed (any non-terminal state) and job_provider_failed (only while the job is
-- at fal, so fal's ERROR arriving after its OK cannot undo a finalizing job).
create function vidqueue.fail_job(
  p_job uuid, p_code text, p_message text, p_request_id text, p_at_fal_only boolean
)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_from text;
  v_job public.jobs;
begin
  select j.status into v_from from public.jobs j where j.id = p_job for update;
  update public.jobs
  set status = case when cancel_requested_at is null then 'failed' else 'canceled' end,
    error_code = case when cancel_requested_at is null then p_code end,
    error_message = case when cancel_requested_at is null then p_message end,
    provider_request_id = coalesce(provider_request_id, p_request_id),
    dispatching_at = null, finished_at = now(), version = version + 1, updated_at = now()
  where id = p_job
    and (status in ('submitted', 'in_progress')
      or (status = 'queued' and (dispatching_at is not null or not p_at_fal_only))
      or (status = 'finalizing' and not p_at_fal_only))
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.free_slot(p_job);
  perform vidqueue.settle_credits(v_job, 'release');
  perform vidqueue.log_event(v_job, v_job.status, v_from,
    jsonb_build_object('code', p_code, 'message', p_message, 'request_id', p_request_id));
  return v_job;
end
$$;

create function vidqueue.job_failed(
  p_job uuid, p_code text, p_message text, p_request_id text default null
)
returns public.jobs
language sql
set search_path = ''
as $$
  select vidqueue.fail_job(p_job, p_code, p_message, p_request_id, false)
$$;

create function vidqueue.job_provider_failed(
  p_job uuid, p_code text, p_message text, p_request_id text default null
)
returns public.jobs
language sql
set search_path = ''
as $$
  select vidqueue.fail_job(p_job, p_code, p_message, p_request_id, true)
$$;

create function vidqueue.job_cancel(p_job uuid, p_user uuid)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_job public.jobs;
begin
  select * into v_old from public.jobs j where j.id = p_job and j.user_id = p_user for update;
  if not found then
    return null;
  end if;
  if v_old.status = 'queued' and v_old.dispatching_at is null then
    update public.jobs
    set status = 'canceled', cancel_requested_at = coalesce(cancel_requested_at, now()),
      finished_at = now(), version = version + 1, updated_at = now()
    where id = p_job
    returning * into v_job;
    perform vidqueue.settle_credits(v_job, 'release');
    perform vidqueue.log_event(v_job, 'canceled', v_old.status);
    return v_job;
  end if;
  if v_old.status in ('queued', 'submitted', 'in_progress') and v_old.cancel_requested_at is null then
    update public.jobs
    set cancel_requested_at = now(), version = version + 1, updated_at = now()
    where id = p_job
    returning * into v_job;
    perform vidqueue.log_event(v_job, 'cancel_requested', v_old.status,
      jsonb_build_object('request_id', v_old.provider_request_id));
    return v_job;
  end if;
  return null;
end
$$;

create function vidqueue.job_delete(p_job uuid, p_user uuid)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  update public.jobs
  set deleted_at = now(), version = version + 1, updated_at = now()
  where id = p_job and user_id = p_user and deleted_at is null
    and status in ('completed', 'failed', 'canceled')
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.log_event(v_job, 'deleted', v_job.status,
    jsonb_build_object('storage_path', v_job.storage_path));
  return v_job;
end
$$;

create function vidqueue.job_by_request(p_request_id text)
returns public.jobs
language sql
stable
set search_path = ''
as $$
  select j.* from public.jobs j where j.provider_request_id = p_request_id
$$;

-- Belt and braces: only `postgres` (the owner, as which the Edge Functions connect) may call the
-- write functions, whatever default privileges a project has.
revoke all on function
  vidqueue.log_event(public.jobs, text, text, jsonb),
  vidqueue.free_slot(uuid),
  vidqueue.job_create_tx(uuid, text, text, jsonb, integer, integer, text, text, jsonb, uuid, uuid, integer),
  vidqueue.job_create(uuid, text, text, jsonb, integer, integer, text, text, jsonb, uuid, uuid, integer),
  vidqueue.job_claim(integer, integer, integer),
  vidqueue.job_submitted(uuid, text),
  vidqueue.retry_or_fail(uuid, text, text, timestamptz, boolean),
  vidqueue.job_dispatch_failed(uuid, text, text, timestamptz),
  vidqueue.job_requeue(uuid, text, text, timestamptz),
  vidqueue.job_started(uuid),
  vidqueue.job_finalizing(uuid, jsonb, text),
  vidqueue.job_completed(uuid, text),
  vidqueue.fail_job(uuid, text, text, text, boolean),
  vidqueue.job_failed(uuid, text, text, text),
  vidqueue.job_provider_failed(uuid, text, text, text),
  vidqueue.job_cancel(uuid, uuid),
  vidqueue.job_delete(uuid, uuid),
  vidqueue.job_by_request(text)
from public, anon, authenticated, service_role;

