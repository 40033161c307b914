-- What one dispatch of a job is, and why a refused submit is not a failed one.
--
-- Each claim of a job for dispatch is numbered (`dispatch_seq`, 1, 2, … never reused). The number
-- goes into the job's webhook URL together with our own HMAC token over (job id, dispatch), so a
-- callback is bound to the dispatch it was made for, and the answer of a submit is recorded only
-- for the dispatch that is still in flight: a late answer of an earlier dispatch (the job was
-- canceled, timed out or re-dispatched meanwhile) is refused, and the caller cancels that request
-- at the provider.
--
-- A submit the provider refused (429, 5xx, unreachable: it never started the request and bills
-- nothing) does not use up one of the job's `max_attempts`, which are for failures of requests
-- the provider ran. Refusals have their own budget: the job goes back to `queued` with a capped
-- exponential backoff with jitter (honouring Retry-After), keeps its reservation and shows the
-- reason (`queue_reason`), until the refusal horizon has passed since the first refusal of the
-- run; then it fails with `provider_refused` and its credits are released once.
--
-- Columns on public.jobs (bookkeeping of the dispatcher; `dispatch_seq` is backfilled from
-- `attempts`, which every claim used to count):
--   dispatch_seq     number of the job's latest claim for dispatch (0: never claimed)
--   submit_refusals  refusals since the provider last accepted a submit of the job
--   refused_since    when the first of those refusals happened (the horizon counts from it)
--   queue_reason     {code, message} of the latest refusal while the job waits to be resubmitted
--
-- Functions (this migration holds the full current definition of each):
--   vidqueue.job_claim_uncapped(p_max_concurrency int, p_user_max_active int, p_limit int
--       default 1) returns setof public.jobs
--     SUPERSEDES the definition in 20251207300000_lock_order.sql. As there (claims only what is
--     still queued and not dispatching, never cascades while `vidqueue.claiming` is on), plus:
--     dispatch_seq + 1 on each claim (in the `claimed` event as `dispatch`).
--   vidqueue.job_claim(p_max_concurrency int, p_user_max_active int, p_limit int default 1)
--       returns setof public.jobs
--     SUPERSEDES the wrapper in 20250602000100_daily_credit_cap.sql. As before, but a job's cost
--     counts towards today's spend at its first dispatch (dispatch_seq = 1) rather than at
--     attempts = 1, which a refused submit no longer moves past.
--   vidqueue.job_submitted(p_job uuid, p_request_id text, p_dispatch int) returns public.jobs
--     NEW. queued + dispatching, and (when p_dispatch is not null) dispatch_seq = p_dispatch ->
--     submitted; stores the request id, clears the refusal bookkeeping; returns the row as the
--     triggers left it (a parent's cancel cascaded onto it shows as cancel_requested_at, see
--     20251207300000_lock_order.sql). NULL (no change) for an answer of a dispatch that is no
--     longer in flight.
--   vidqueue.job_submitted(p_job uuid, p_request_id text) returns public.jobs
--     SUPERSEDES the definition in 20251207300000_lock_order.sql: the same transition for
--     whichever dispatch is in flight (job_submitted(p_job, p_request_id, null)). For tests and
--     manual repair; the functions always name the dispatch.
--   vidqueue.job_dispatch_failed(p_job uuid, p_code text, p_message text,
--       p_retry_at timestamptz, p_dispatch int) returns public.jobs
--     NEW. job_dispatch_failed (20250601000600_job_state_machine.sql, unchanged) for dispatch
--     p_dispatch only: a late failure of an earlier dispatch changes nothing (NULL).
--   vidqueue.job_submit_refused(p_job uuid, p_dispatch int, p_code text, p_message text,
--       p_retry_after_s double precision default null, p_base_ms int default 5000,
--       p_horizon_s int default null) returns public.jobs
--     NEW. queued + dispatching (dispatch p_dispatch, when not null) -> frees the slot and gives
--     the claimed attempt back (attempts - 1); then
--       * canceled + release when a cancel was requested;
--       * failed (`provider_refused`) + release when the horizon has passed: p_horizon_s, else
--         the model's timeout_seconds, else 900 s, counted from refused_since (set at the first
--         refusal of the run);
--       * else queued with next_attempt_at = now + the larger of Retry-After (p_retry_after_s)
--         and least(60 s, p_base_ms × 2^refusals so far) ± 20 %, but never past the horizon;
--         queue_reason = {code: p_code, message: p_message}; the reservation is kept.
--     Logged as `dispatch_failed` (detail.refused = true, the refusal number, retry_at,
--     horizon_at), or as `failed` / `canceled`. NULL when the dispatch is not in flight.

alter table public.jobs
  add column dispatch_seq integer not null default 0 check (dispatch_seq >= 0),
  add column submit_refusals integer not null default 0 check (submit_refusals >= 0),
  add column refused_since timestamptz,
  add column queue_reason jsonb check (queue_reason is null or jsonb_typeof(queue_reason) = 'object');
comment on column public.jobs.dispatch_seq is
  'Number of the latest claim for dispatch; names the dispatch in the webhook URL and token.';
comment on column public.jobs.submit_refusals is
  'Submits the provider refused (429/5xx/unreachable) since it last accepted one.';
comment on column public.jobs.refused_since is
  'First refusal of the current run of refusals; the refusal horizon counts from it.';
comment on column public.jobs.queue_reason is
  'Why a queued job waits to be resubmitted ({code, message}); shown while queued.';

-- Every claim so far counted `attempts` up by one. (Only when there are such jobs: the statement
-- would fire the admin:stats trigger even when it updates no row.)
do $$
begin
  if exists (select 1 from public.jobs where attempts > 0) then
    update public.jobs set dispatch_seq = attempts where attempts > 0;
  end if;
end
$$;

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
    set dispatching_at = now(), attempts = attempts + 1, dispatch_seq = dispatch_seq + 1,
      version = version + 1, updated_at = now()
    where id = v_candidate.id and status = 'queued' and dispatching_at is null
    returning * into v_job;
    continue when not found;
    v_used := v_used + 1;
    update vidqueue.slots
    set job_id = v_candidate.id, claimed_at = now()
    where slot = v_slots[v_used];
    perform vidqueue.log_event(v_job, 'claimed', 'queued',
      jsonb_build_object('slot', v_slots[v_used], 'attempt', v_job.attempts,
        'dispatch', v_job.dispatch_seq));
    return next v_job;
  end loop;
  perform set_config('vidqueue.claiming', '', true);
end
$$;

create or replace function vidqueue.job_claim(
  p_max_concurrency integer, p_user_max_active integer, p_limit integer default 1
)
returns setof public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_cap integer;
  v_day date := (now() at time zone 'utc')::date;
  v_spent bigint;
  v_added bigint := 0;
  v_claimed integer := 0;
  v_job public.jobs;
begin
  v_cap := vidqueue.setting_int('daily_credit_cap', null);
  if v_cap is null then
    -- No cap: claim as before, but still count today's spend (a cap set later in the day
    -- then knows what was already sent).
    for v_job in
      select * from vidqueue.job_claim_uncapped(p_max_concurrency, p_user_max_active, p_limit)
    loop
      if v_job.dispatch_seq = 1 then
        v_added := v_added + v_job.cost;
      end if;
      return next v_job;
    end loop;
    if v_added > 0 then
      insert into vidqueue.daily_spend as d (day, credits) values (v_day, v_added)
      on conflict (day) do update set credits = d.credits + excluded.credits, updated_at = now();
    end if;
    return;
  end if;

  -- Claimers take turns on today's total so two of them cannot both spend the last credits.
  perform pg_advisory_xact_lock(hashtextextended('vidqueue.daily_spend', 0));
  select d.credits into v_spent from vidqueue.daily_spend d where d.day = v_day;
  v_spent := coalesce(v_spent, 0);

  -- One job at a time, so the check sees each claimed job's cost.
  while v_claimed < coalesce(p_limit, 0) loop
    if v_spent + v_added >= v_cap then
      raise warning using message = format(
        'vidqueue: daily credit cap reached (%s of %s credits sent to fal today); jobs wait queued',
        v_spent + v_added, v_cap);
      exit;
    end if;
    select * into v_job
    from vidqueue.job_claim_uncapped(p_max_concurrency, p_user_max_active, 1);
    exit when v_job.id is null;
    v_claimed := v_claimed + 1;
    if v_job.dispatch_seq = 1 then
      v_added := v_added + v_job.cost;
    end if;
    return next v_job;
  end loop;

  if v_added > 0 then
    insert into vidqueue.daily_spend as d (day, credits) values (v_day, v_added)
    on conflict (day) do update set credits = d.credits + excluded.credits, updated_at = now();
  end if;
end
$$;

create function vidqueue.job_submitted(p_job uuid, p_request_id text, p_dispatch integer)
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
    dispatching_at = null, next_attempt_at = null, submit_refusals = 0, refused_since = null,
    queue_reason = null, version = version + 1, updated_at = now()
  where id = p_job and status = 'queued' and dispatching_at is not null
    and (p_dispatch is null or dispatch_seq = p_dispatch)
  returning * into v_job;
  if not found then
    return null;
  end if;
  perform vidqueue.log_event(v_job, 'submitted', 'queued',
    jsonb_build_object('request_id', p_request_id, 'dispatch', v_job.dispatch_seq));
  -- The row as the triggers left it: a parent's cancel reaching this job now (the claim left it
  -- to this transition) shows as cancel_requested_at, so the caller asks fal to stop.
  select * into v_job from public.jobs j where j.id = p_job;
  return v_job;
end
$$;

create or replace function vidqueue.job_submitted(p_job uuid, p_request_id text)
returns public.jobs
language sql
set search_path = ''
as $$
  select vidqueue.job_submitted(p_job, p_request_id, null::integer)
$$;

create function vidqueue.job_dispatch_failed(
  p_job uuid, p_code text, p_message text, p_retry_at timestamptz, p_dispatch integer
)
returns public.jobs
language plpgsql
set search_path = ''
as $$
begin
  -- The row lock is taken here, so the dispatch checked is the one retry_or_fail then sees.
  perform 1 from public.jobs j
  where j.id = p_job and (p_dispatch is null or j.dispatch_seq = p_dispatch)
  for update;
  if not found then
    return null;
  end if;
  return vidqueue.retry_or_fail(p_job, p_code, p_message, p_retry_at, false);
end
$$;

create function vidqueue.job_submit_refused(
  p_job uuid,
  p_dispatch integer,
  p_code text,
  p_message text,
  p_retry_after_s double precision default null,
  p_base_ms integer default 5000,
  p_horizon_s integer default null
)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_job public.jobs;
  v_since timestamptz;
  v_horizon_s integer;
  v_horizon_at timestamptz;
  v_delay_ms double precision;
  v_retry_at timestamptz;
  v_to text;
begin
  select * into v_old from public.jobs j where j.id = p_job for update;
  if not found then
    return null;
  end if;
  if not (v_old.status = 'queued' and v_old.dispatching_at is not null
      and (p_dispatch is null or v_old.dispatch_seq = p_dispatch)) then
    return null;
  end if;

  v_since := coalesce(v_old.refused_since, now());
  v_horizon_s := greatest(0, coalesce(p_horizon_s,
    (select m.timeout_seconds from public.models m where m.id = v_old.model), 900));
  v_horizon_at := v_since + make_interval(secs => v_horizon_s);
  v_delay_ms := least(60000, greatest(1, coalesce(p_base_ms, 5000))
      * power(2, least(v_old.submit_refusals, 20))::double precision)
    * (0.8 + 0.4 * random());
  v_delay_ms := greatest(v_delay_ms, coalesce(p_retry_after_s, 0) * 1000);
  v_retry_at := least(now() + make_interval(secs => v_delay_ms / 1000), v_horizon_at);
  v_to := case
    when v_old.cancel_requested_at is not null then 'canceled'
    when now() >= v_horizon_at then 'failed'
    else 'queued'
  end;

  update public.jobs
  set status = v_to,
    dispatching_at = null,
    attempts = greatest(0, attempts - 1),
    submit_refusals = submit_refusals + 1,
    refused_since = v_since,
    next_attempt_at = case when v_to = 'queued' then v_retry_at end,
    queue_reason = case when v_to = 'queued'
      then jsonb_build_object('code', p_code, 'message', p_message) end,
    error_code = case when v_to = 'failed' then 'provider_refused' end,
    error_message = case when v_to = 'failed' then format(
      'The provider refused the submit for %s s (last answer: %s).',
      round(extract(epoch from (now() - v_since)))::bigint, coalesce(p_message, p_code)) end,
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
    case when v_to = 'queued' then 'dispatch_failed' else v_to end,
    'queued',
    jsonb_build_object('code', p_code, 'message', p_message, 'refused', true,
      'refusal', v_job.submit_refusals, 'dispatch', v_old.dispatch_seq,
      'retry_at', case when v_to = 'queued' then v_retry_at end,
      'retry_after_s', p_retry_after_s, 'horizon_at', v_horizon_at));
  return v_job;
end
$$;

revoke all on function
  vidqueue.job_submitted(uuid, text, integer),
  vidqueue.job_dispatch_failed(uuid, text, text, timestamptz, integer),
  vidqueue.job_submit_refused(uuid, integer, text, text, double precision, integer, integer)
from public, anon, authenticated, service_role;
