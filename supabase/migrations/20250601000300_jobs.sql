-- Jobs, their append-only event log, and the dispatcher's slot table.
--
-- Status machine (CHECK-constrained; the transitions are the functions in
-- 20250601000600_job_state_machine.sql):
--   queued -> submitted -> in_progress -> finalizing -> completed
--   queued | submitted | in_progress | finalizing -> failed | canceled
-- A job claimed by the dispatcher and being submitted to fal stays `queued` with `dispatching_at`
-- set and holds a row of vidqueue.slots until it leaves fal (finalizing, failed, canceled, or back
-- to queued for a retry).
--
-- Kinds: video | image | audio | compose run at fal (they have a model); batch | story are parents
-- of other jobs (parent_id) and never run at fal themselves.
--
-- Users read their own jobs (except those they deleted) and their own events; nobody but the
-- service writes. Deleting an auth user deletes their jobs and events (cascade); the credit
-- ledger keeps its rows (see 20250601000400_credits.sql).

create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  parent_id uuid references public.jobs (id) on delete cascade,
  retry_of uuid references public.jobs (id) on delete set null,
  kind text not null check (kind in ('video', 'image', 'audio', 'compose', 'batch', 'story')),
  model text references public.models (id) on update cascade,
  input jsonb not null default '{}'::jsonb check (jsonb_typeof(input) = 'object'),
  status text not null default 'queued' check (status in (
    'queued', 'submitted', 'in_progress', 'finalizing', 'completed', 'failed', 'canceled')),
  version integer not null default 1 check (version > 0),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts > 0),
  priority integer not null default 0,
  idempotency_key text check (length(idempotency_key) between 1 and 255),
  request_hash text,
  provider_request_id text unique,
  cost integer not null default 0 check (cost >= 0),
  expected_seconds integer check (expected_seconds > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  dispatching_at timestamptz,
  submitted_at timestamptz,
  started_at timestamptz,
  finalizing_at timestamptz,
  completed_at timestamptz,
  finished_at timestamptz,
  cancel_requested_at timestamptz,
  next_attempt_at timestamptz,
  deleted_at timestamptz,
  storage_path text,
  result jsonb,
  error_code text,
  error_message text,
  check (kind in ('batch', 'story') or model is not null),
  check (dispatching_at is null or status = 'queued'),
  check ((status in ('completed', 'failed', 'canceled')) = (finished_at is not null)),
  check (status <> 'completed' or completed_at is not null),
  check (deleted_at is null or status in ('completed', 'failed', 'canceled'))
);
comment on table public.jobs is
  'Generation jobs. Written only through the vidqueue.job_* functions; users read their own.';
comment on column public.jobs.dispatching_at is
  'Set while a claimed job is being submitted to fal (status stays queued, a slot is held).';
comment on column public.jobs.finished_at is 'When the job reached a terminal status.';
comment on column public.jobs.deleted_at is 'Hidden by the user (terminal jobs only); the ledger is untouched.';

create unique index jobs_user_idempotency_key on public.jobs (user_id, idempotency_key)
  where idempotency_key is not null;
create index jobs_user_created_idx on public.jobs (user_id, created_at desc);
create index jobs_parent_idx on public.jobs (parent_id) where parent_id is not null;
create index jobs_retry_of_idx on public.jobs (retry_of) where retry_of is not null;
create index jobs_model_idx on public.jobs (model);
-- The dispatcher's queue order, and counting who is ahead for queue_position.
create index jobs_queue_idx on public.jobs (priority desc, created_at, id) where status = 'queued';
-- Reconciler: jobs at fal, oldest news first.
create index jobs_active_idx on public.jobs (status, updated_at)
  where status in ('submitted', 'in_progress', 'finalizing');

alter table public.jobs enable row level security;
revoke all on public.jobs from anon;
revoke insert, update, delete, truncate on public.jobs from authenticated;

create policy "users read their own jobs" on public.jobs
  for select to authenticated
  using (user_id = (select auth.uid()) and deleted_at is null);

create table public.job_events (
  id bigint generated always as identity primary key,
  job_id uuid not null references public.jobs (id) on delete cascade,
  user_id uuid not null,
  kind text not null,
  from_status text,
  to_status text,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
comment on table public.job_events is 'Append-only audit of every job transition.';
create index job_events_job_idx on public.job_events (job_id, id);
create index job_events_user_idx on public.job_events (user_id, id);

alter table public.job_events enable row level security;
revoke all on public.job_events from anon;
revoke insert, update, delete, truncate on public.job_events from authenticated;

create policy "users read their own job events" on public.job_events
  for select to authenticated
  using (user_id = (select auth.uid()));

-- Dispatcher slots: at most FAL_MAX_CONCURRENCY jobs hold a slot (are at fal, or being submitted).
-- vidqueue.job_claim() locks free rows with FOR UPDATE SKIP LOCKED, so concurrent claimers never
-- hand out the same slot; rows are created on demand up to the concurrency the claimer asks for.
create table vidqueue.slots (
  slot integer primary key check (slot > 0),
  job_id uuid unique references public.jobs (id) on delete set null,
  claimed_at timestamptz
);
revoke all on vidqueue.slots from public, anon, authenticated;
