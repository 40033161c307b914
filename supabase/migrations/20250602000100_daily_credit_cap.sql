-- A global daily cap on the credits sent to fal: once the jobs dispatched today (UTC) cost
-- `daily_credit_cap` credits (setting in public.settings; absent or null = no cap), no further
-- job is claimed for dispatch until the next UTC day. Jobs simply wait queued (their
-- reservations stay), a WARNING is raised into the Postgres log at each refused claim, and the
-- reconciler logs a warning too (vidqueue.daily_cap_status). The cap is soft by at most one
-- job: a claim is allowed while today's total is below the cap, and the job it claims may take it
-- over. Automatic retries of a job count once (only first attempts are counted). Today's spend
-- is counted whether or not a cap is set.
--
-- So that every dispatcher honours it (generate-video, fal-webhook, video-jobs and the
-- reconciler all call vidqueue.job_claim), the original claim function is renamed to
-- vidqueue.job_claim_uncapped and vidqueue.job_claim becomes a wrapper with the same signature
-- and result. Without a cap the wrapper only delegates. NOTE for later migrations: a
-- `create or replace function vidqueue.job_claim` would replace this wrapper and drop the cap;
-- change vidqueue.job_claim_uncapped instead.
--
--   vidqueue.job_claim(p_max_concurrency int, p_user_max_active int, p_limit int default 1)
--     returns setof public.jobs                     (as before, plus the cap)
--   vidqueue.daily_cap_status() returns table(day date, spent int, cap int)
--     today's credits sent to fal and the cap (null when none).

create table vidqueue.daily_spend (
  day date primary key,
  credits bigint not null default 0 check (credits >= 0),
  updated_at timestamptz not null default now()
);
comment on table vidqueue.daily_spend is
  'Credits of the jobs first dispatched to fal per UTC day (for the daily_credit_cap setting).';
revoke all on vidqueue.daily_spend from public, anon, authenticated, service_role;

alter function vidqueue.job_claim(integer, integer, integer) rename to job_claim_uncapped;

create function vidqueue.job_claim(
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
      if v_job.attempts = 1 then
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
    if v_job.attempts = 1 then
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

create function vidqueue.daily_cap_status()
returns table (day date, spent integer, cap integer)
language sql
stable
set search_path = ''
as $$
  select t.day,
    coalesce((select d.credits from vidqueue.daily_spend d where d.day = t.day), 0)::integer,
    vidqueue.setting_int('daily_credit_cap', null)
  from (select (now() at time zone 'utc')::date as day) t
$$;

revoke all on function
  vidqueue.job_claim(integer, integer, integer),
  vidqueue.job_claim_uncapped(integer, integer, integer),
  vidqueue.daily_cap_status()
from public, anon, authenticated, service_role;
