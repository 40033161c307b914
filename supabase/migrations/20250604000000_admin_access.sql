-- Who is an admin, and what admins may read beyond their own rows.
--
-- An admin is a user whose JWT carries `app_metadata.role = 'admin'`. app_metadata is written only
-- by the service (users cannot change it), so the claim is trusted the way Supabase recommends for
-- role checks. A promotion or demotion takes effect when the user's next access token is issued
-- (sign-in or refresh, at most jwt_expiry later).
--
-- The check lives in SQL as well as in the functions: the admin-queue function sets the caller's
-- claims (`request.jwt.claims`) before it calls the vidqueue.admin_* functions, and each of them
-- raises 42501 unless vidqueue.is_admin() is true for those claims. Policies use the same
-- expression inline (auth.jwt() is callable by the API roles; vidqueue.is_admin() is not).
--
--   vidqueue.is_admin() returns boolean
--     true when the current request's claims say app_metadata.role = 'admin'.
--   vidqueue.require_admin() returns void
--     raises 42501 'admin only' unless vidqueue.is_admin().
--   vidqueue.set_admin(p_user uuid, p_admin boolean default true) returns boolean
--     sets or removes app_metadata.role = 'admin' on an auth user (dev task `deno task admin`,
--     or run it in the SQL editor); false when there is no such user.
--
-- Policies added:
--   job_events  admins read every job's events (the per-job timeline of the admin dashboard).
--               Deliberately NOT on public.jobs: the user-facing reads (video-jobs) rely on RLS to
--               return only the caller's jobs, so an admin's own app must keep seeing only theirs.
--   realtime.messages  admins may join (read) the private topic `admin:stats`.

create function vidqueue.is_admin()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;

create function vidqueue.require_admin()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if not vidqueue.is_admin() then
    raise exception using errcode = '42501', message = 'admin only';
  end if;
end
$$;

create function vidqueue.set_admin(p_user uuid, p_admin boolean default true)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update auth.users
  set raw_app_meta_data = case
      when coalesce(p_admin, true) then coalesce(raw_app_meta_data, '{}'::jsonb)
        || '{"role":"admin"}'::jsonb
      else coalesce(raw_app_meta_data, '{}'::jsonb) - 'role'
    end,
    updated_at = now()
  where id = p_user;
  return found;
end
$$;

revoke all on function
  vidqueue.is_admin(),
  vidqueue.require_admin(),
  vidqueue.set_admin(uuid, boolean)
from public, anon, authenticated, service_role;

create policy "admins read all job events" on public.job_events
  for select to authenticated
  using ((select auth.jwt() -> 'app_metadata' ->> 'role') = 'admin');

create policy "admins receive queue statistics" on realtime.messages
  for select to authenticated
  using (
    (select realtime.topic()) = 'admin:stats'
    and (select auth.jwt() -> 'app_metadata' ->> 'role') = 'admin'
  );
