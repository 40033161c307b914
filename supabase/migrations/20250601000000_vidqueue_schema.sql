-- The internal schema `vidqueue` and the `settings` table.
--
-- `vidqueue` holds every function that writes (the job state machine, the credit ledger, the
-- triggers) plus internal tables (slots). It is not in the API's exposed schemas, and the API
-- roles may not execute its write functions: the Edge Functions connect as `postgres`.
-- Postgres grants EXECUTE on every new function to PUBLIC (a per-schema default privilege cannot
-- take that back), so each migration that adds a vidqueue function revokes it from PUBLIC
-- explicitly, and grants the read helpers that user-facing reads need (vidqueue.job_public,
-- vidqueue.queue_position, vidqueue.model_cost) to `authenticated` where they are defined.
-- supabase/tests/database/schema_security.sql fails if one is forgotten.
--
-- `public.settings` holds key/value settings read by triggers (e.g. free_credits_anon and
-- free_credits_user, which the dev stack fills from env with dev/app_settings.ts). Users cannot
-- read it: RLS is on and there is no policy, and the API roles have no privileges on it.

create schema if not exists vidqueue;
revoke all on schema vidqueue from public;
grant usage on schema vidqueue to postgres, service_role, authenticated, anon;

create table public.settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
comment on table public.settings is
  'Server-side settings read by triggers (free_credits_anon, free_credits_user, ...). Not readable by users.';
alter table public.settings enable row level security;
revoke all on public.settings from anon, authenticated;

-- An integer setting, or p_default when unset or not a number.
create function vidqueue.setting_int(p_key text, p_default integer)
returns integer
language plpgsql
stable
set search_path = ''
as $$
declare
  v_value jsonb;
begin
  select s.value into v_value from public.settings s where s.key = p_key;
  if v_value is null then
    return p_default;
  end if;
  if jsonb_typeof(v_value) = 'number' then
    return (v_value #>> '{}')::numeric::integer;
  end if;
  if jsonb_typeof(v_value) = 'string' and (v_value #>> '{}') ~ '^\s*-?\d+\s*$' then
    return trim(v_value #>> '{}')::integer;
  end if;
  return p_default;
end
$$;

revoke all on function vidqueue.setting_int(text, integer) from public;
