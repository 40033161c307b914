-- The role the Edge Functions read as on a user's behalf: `vidqueue_reader`.
--
-- Vidqueue's read API is its functions (video-jobs, job-events) plus Realtime; the Data API
-- (PostgREST) shows none of its tables (20251207000100_data_api_closed.sql). The functions still
-- let RLS, not hand-written filters, decide which rows a user's read returns: they connect as
-- `postgres`, and for a user's read run `set local role vidqueue_reader` with the user's verified
-- JWT claims in `request.jwt.claims` (supabase/functions/_shared/db.ts, asUser).
--
-- vidqueue_reader is NOLOGIN, a member of no role, and only `postgres` is a member of it.
-- PostgREST can never become it: `authenticator` is not a member (a JWT claiming
-- role = vidqueue_reader is refused), and it is not a member of `authenticated`, so it holds
-- exactly the grants below. Roles are cluster-wide and this migration may meet the role already
-- created (another database of the same cluster), hence the guard.
--
-- It may read:
--   public.jobs             every column (the reads pass whole rows to vidqueue.job_public and
--                           return them to the function), rows: the user's own, not deleted;
--   public.job_events       id, job_id, kind, from_status, to_status, detail, created_at;
--                           rows: the user's own, or every job's for an admin (job-events' admin
--                           timeline; the function strips internal detail keys for owners);
--   public.credit_accounts  user_id, available, reserved; rows: the user's own;
-- and call the read helpers those reads use: vidqueue.job_public, vidqueue.job_progress,
-- vidqueue.queue_position, and vidqueue.uid() / vidqueue.is_admin() in the policies. Nothing else
-- (not the ledger, settings, the catalog, vidqueue's internal tables, any write). The catalog
-- (models, templates) is read by the functions as `postgres`.
--
-- The policies cannot use auth.uid(): on hosted Supabase schema `auth` belongs to supabase_admin
-- and postgres may not grant USAGE on it to a role of its own. So:
--   vidqueue.uid() returns uuid       the `sub` claim of request.jwt.claims (null without one);
--   vidqueue.is_admin() returns boolean   now reads request.jwt.claims itself (same answer as
--                                     before: app_metadata.role = 'admin').
-- Storage objects are not Vidqueue's: reads of storage.objects keep running as `authenticated`
-- under the Storage policies of 20250601000800_storage_buckets.sql (storage is a schema
-- vidqueue_reader cannot be given either).

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'vidqueue_reader') then
    create role vidqueue_reader nologin noinherit;
  end if;
exception when duplicate_object then
  null; -- created by a concurrent migration of another database in this cluster
end
$$;
alter role vidqueue_reader nologin noinherit;
grant vidqueue_reader to postgres;

create function vidqueue.uid()
returns uuid
language sql
stable
set search_path = ''
as $$
  select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid
$$;

create or replace function vidqueue.is_admin()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'app_metadata' ->> 'role')
      = 'admin',
    false)
$$;

revoke all on function vidqueue.uid() from public, anon, authenticated, service_role;
revoke all on function vidqueue.is_admin() from public, anon, authenticated, service_role;

grant usage on schema public to vidqueue_reader;
grant usage on schema vidqueue to vidqueue_reader;

grant select on public.jobs to vidqueue_reader;
grant select (id, job_id, kind, from_status, to_status, detail, created_at)
  on public.job_events to vidqueue_reader;
grant select (user_id, available, reserved) on public.credit_accounts to vidqueue_reader;

grant execute on function
  vidqueue.uid(),
  vidqueue.is_admin(),
  vidqueue.job_public(public.jobs),
  vidqueue.job_progress(public.jobs),
  vidqueue.queue_position(uuid, integer, timestamptz)
to vidqueue_reader;

create policy "the reader sees a user's own jobs" on public.jobs
  for select to vidqueue_reader
  using (user_id = (select vidqueue.uid()) and deleted_at is null);

create policy "the reader sees a user's own job events" on public.job_events
  for select to vidqueue_reader
  using (user_id = (select vidqueue.uid()));

create policy "the reader sees every job's events for an admin" on public.job_events
  for select to vidqueue_reader
  using ((select vidqueue.is_admin()));

create policy "the reader sees a user's own credit account" on public.credit_accounts
  for select to vidqueue_reader
  using (user_id = (select vidqueue.uid()));
