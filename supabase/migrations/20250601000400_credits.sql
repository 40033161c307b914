-- Credits: one account per user (available, reserved) and an append-only ledger.
--
-- Every change of an account happens in the same transaction as exactly one ledger row:
--   grant    available += amount                      (idempotent on external_id)
--   reserve  available -= cost, reserved += cost       (guarded: available >= cost)
--   capture  reserved  -= cost                         (job completed: the credits are spent)
--   release  reserved  -= cost, available += cost      (job failed or canceled)
-- The ledger is unique per (job, kind), and a job has at most one capture-or-release, so a job is
-- reserved once and then either captured once or released once. Invariant per user:
--   available + reserved = sum(grant) - sum(capture)
--
-- Housekeeping: the account is deleted with its auth user (cascade), but ledger rows have no
-- foreign key to auth.users or public.jobs on purpose: they are the accounting record and must
-- outlive users and jobs (a cascading FK would delete them, SET NULL would lose whose they were).
--
-- Functions (schema vidqueue, not callable by API roles):
--   vidqueue.grant_credits(p_user uuid, p_amount int, p_reason text, p_external_id text) returns boolean
--     true when granted now, false when p_external_id was granted before (nothing changes).
--   vidqueue.settle_credits(p_job public.jobs, p_kind text) returns boolean   (internal)
-- Triggers on auth.users: sign-up grants free credits (settings free_credits_anon /
-- free_credits_user, defaults 20 / 100) as `signup:<uid>`; an anonymous user becoming permanent
-- is topped up to free_credits_user once, as `upgrade:<uid>`.

create table public.credit_accounts (
  user_id uuid primary key references auth.users (id) on delete cascade,
  available integer not null default 0,
  reserved integer not null default 0,
  updated_at timestamptz not null default now(),
  check (available >= 0 and reserved >= 0)
);
comment on table public.credit_accounts is
  'Credit balance per user; changed only together with a credit_ledger row.';

alter table public.credit_accounts enable row level security;
revoke all on public.credit_accounts from anon;
revoke insert, update, delete, truncate on public.credit_accounts from authenticated;

create policy "users read their own credit account" on public.credit_accounts
  for select to authenticated
  using (user_id = (select auth.uid()));

create table public.credit_ledger (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  job_id uuid,
  kind text not null check (kind in ('grant', 'reserve', 'capture', 'release')),
  amount integer not null check (amount > 0),
  reason text,
  external_id text unique,
  created_at timestamptz not null default now(),
  check ((kind = 'grant') = (job_id is null)),
  check (kind = 'grant' or external_id is null)
);
comment on table public.credit_ledger is
  'Append-only credit movements. No FK to users/jobs: the record outlives them.';
comment on column public.credit_ledger.user_id is 'The auth user (kept after the user is deleted).';
comment on column public.credit_ledger.job_id is 'The job (kept after the job is deleted).';

create unique index credit_ledger_job_kind on public.credit_ledger (job_id, kind)
  where job_id is not null;
-- A job's reservation ends once: captured or released, never both.
create unique index credit_ledger_job_settled on public.credit_ledger (job_id)
  where kind in ('capture', 'release');
create index credit_ledger_user_idx on public.credit_ledger (user_id, id);

alter table public.credit_ledger enable row level security;
revoke all on public.credit_ledger from anon;
revoke insert, update, delete, truncate on public.credit_ledger from authenticated;

create policy "users read their own ledger" on public.credit_ledger
  for select to authenticated
  using (user_id = (select auth.uid()));

create function vidqueue.grant_credits(
  p_user uuid, p_amount integer, p_reason text, p_external_id text
)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_user is null or p_amount is null or p_amount <= 0 or p_external_id is null then
    raise exception using errcode = 'VQ400',
      message = 'grant_credits needs a user, a positive amount and an external id';
  end if;
  insert into public.credit_ledger (user_id, kind, amount, reason, external_id)
  values (p_user, 'grant', p_amount, p_reason, p_external_id)
  on conflict (external_id) do nothing
  returning id into v_id;
  if v_id is null then
    return false;
  end if;
  insert into public.credit_accounts as a (user_id, available)
  values (p_user, p_amount)
  on conflict (user_id) do update
    set available = a.available + excluded.available, updated_at = now();
  return true;
end
$$;

-- Captures or releases a job's reservation once; false when there is nothing (left) to settle.
-- Callers hold the job's row lock (they just updated it), which serialises settlements per job.
create function vidqueue.settle_credits(p_job public.jobs, p_kind text)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_amount integer;
  v_id bigint;
begin
  if p_kind not in ('capture', 'release') then
    raise exception using errcode = 'VQ400', message = format('cannot settle with %s', p_kind);
  end if;
  select l.amount into v_amount
  from public.credit_ledger l
  where l.job_id = p_job.id and l.kind = 'reserve';
  if v_amount is null then
    return false;
  end if;
  insert into public.credit_ledger (user_id, job_id, kind, amount, reason)
  values (p_job.user_id, p_job.id, p_kind, v_amount, p_job.status)
  on conflict do nothing
  returning id into v_id;
  if v_id is null then
    return false;
  end if;
  if p_kind = 'capture' then
    update public.credit_accounts
    set reserved = reserved - v_amount, updated_at = now()
    where user_id = p_job.user_id;
  else
    update public.credit_accounts
    set reserved = reserved - v_amount, available = available + v_amount, updated_at = now()
    where user_id = p_job.user_id;
  end if;
  return true;
end
$$;

-- Sign-up: an account and the free credits for the kind of user (anonymous or permanent).
create function vidqueue.on_auth_user_created()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_amount integer;
begin
  insert into public.credit_accounts (user_id) values (new.id) on conflict (user_id) do nothing;
  if coalesce(new.is_anonymous, false) then
    v_amount := vidqueue.setting_int('free_credits_anon', 20);
  else
    v_amount := vidqueue.setting_int('free_credits_user', 100);
  end if;
  if v_amount > 0 then
    perform vidqueue.grant_credits(new.id, v_amount, 'signup', 'signup:' || new.id::text);
  end if;
  return null;
end
$$;

-- An anonymous user who becomes permanent gets the difference to a permanent user's free
-- credits, once.
create function vidqueue.on_auth_user_upgraded()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_target integer;
  v_had integer;
begin
  v_target := vidqueue.setting_int('free_credits_user', 100);
  select coalesce(sum(l.amount), 0)::integer into v_had
  from public.credit_ledger l
  where l.external_id = 'signup:' || new.id::text;
  if v_target - v_had > 0 then
    perform vidqueue.grant_credits(new.id, v_target - v_had, 'upgrade', 'upgrade:' || new.id::text);
  end if;
  return null;
end
$$;

revoke all on function
  vidqueue.grant_credits(uuid, integer, text, text),
  vidqueue.settle_credits(public.jobs, text),
  vidqueue.on_auth_user_created(),
  vidqueue.on_auth_user_upgraded()
from public;

create trigger vidqueue_credits_on_signup
  after insert on auth.users
  for each row execute function vidqueue.on_auth_user_created();

create trigger vidqueue_credits_on_upgrade
  after update of is_anonymous on auth.users
  for each row
  when (old.is_anonymous is true and new.is_anonymous is false)
  execute function vidqueue.on_auth_user_upgraded();
