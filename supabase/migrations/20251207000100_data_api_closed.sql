-- The Data API (PostgREST, `/rest/v1`) shows none of Vidqueue's tables or functions.
--
-- Through PostgREST a signed-in user could read what the functions deliberately hide: every
-- column of templates (the hidden `prompt`, `default_image_path`), job_events.detail (the acting
-- admin's id, fal request ids, storage paths) and jobs.result (fal's public media URL, even after
-- a refund). The product's read API is the video-jobs and job-events functions plus Realtime, so
-- the API roles (anon, authenticated, service_role) now hold nothing on Vidqueue's objects:
--
-- * every privilege on its tables and sequences in `public` is revoked. A project created before
--   hosted Supabase stopped granting them by default (2026-10-30) got them all; a newer one
--   still gets TRUNCATE, REFERENCES and TRIGGER on each new table and UPDATE on each new sequence
--   (the platform revokes only the read/write ones, see dev/shim/database/0007);
-- * USAGE on schema `vidqueue` and EXECUTE on its read helpers are revoked (only
--   vidqueue_reader, 20251207000000_vidqueue_reader.sql, may call them now);
-- * the `to authenticated` / `to anon` policies on Vidqueue's tables are dropped: with no
--   privilege they could never apply, and the vidqueue_reader policies replace the ones the
--   functions' reads need. RLS stays enabled everywhere, so a table without a policy for a role
--   shows that role no row even if a privilege were granted by mistake.
--
-- Untouched on purpose: the policies on realtime.messages (Realtime checks private channels as
-- `authenticated`, with the platform's grants on that table) and on storage.objects (Storage
-- runs as `authenticated`). supabase/tests/database/least_privilege_catalog.sql fails when a
-- later migration gives any role but postgres and vidqueue_reader a privilege on a Vidqueue
-- object: every new table, sequence or function needs `revoke all ... from anon, authenticated,
-- service_role` (and functions `from public`).
--
-- Deploy note: functions deployed before this migration read as `authenticated` and are refused
-- from here on; deploy the functions right after `db push`.

revoke all on table
  public.settings,
  public.models,
  public.templates,
  public.jobs,
  public.job_events,
  public.credit_accounts,
  public.credit_ledger
from anon, authenticated, service_role;

revoke all on sequence
  public.job_events_id_seq,
  public.credit_ledger_id_seq
from anon, authenticated, service_role;

revoke all on schema vidqueue from public, anon, authenticated, service_role;

do $$
declare
  v_fn regprocedure;
begin
  -- Every function in vidqueue, whatever earlier migrations granted.
  for v_fn in
    select p.oid::regprocedure
    from pg_catalog.pg_proc p
    where p.pronamespace = 'vidqueue'::regnamespace
  loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role',
      v_fn);
  end loop;
end
$$;

drop policy "users read their own jobs" on public.jobs;
drop policy "users read their own job events" on public.job_events;
drop policy "admins read all job events" on public.job_events;
drop policy "users read their own credit account" on public.credit_accounts;
drop policy "users read their own ledger" on public.credit_ledger;
drop policy "anyone reads enabled models" on public.models;
drop policy "anyone reads enabled templates" on public.templates;
