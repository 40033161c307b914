-- Schemas `auth` and `storage` owned and granted as on hosted Supabase, and Storage's guard
-- against deleting its rows from SQL.
--
-- * Both schemas belong to supabase_admin (supabase/postgres init-scripts 00000000000001/2),
--   with ALL to their service's admin role, to postgres (demote-postgres) and to dashboard_user
--   (post-setup), and USAGE to the API roles. Nobody else may grant USAGE on them: a role a
--   project creates (such as Vidqueue's vidqueue_reader) can never be given access to auth or
--   storage, here as there. The tables stay owned by supabase_auth_admin /
--   supabase_storage_admin (0003, 0004).
-- * storage.buckets and storage.objects: ALL to postgres WITH GRANT OPTION and ALL to the API
--   roles (supabase/storage migrations/tenant/0046 and 0049).
-- * Direct deletes from storage.buckets and storage.objects raise 42501 unless the session set
--   storage.allow_delete_query = 'true', which only the Storage API does
--   (migrations/tenant/0055-prevent-direct-deletes.sql); the dev gateway's Storage sets it too.
--   So a trigger or migration that deletes Storage rows fails here as it does on hosted.

alter schema auth owner to supabase_admin;
revoke all on schema auth from public, supabase_auth_admin, postgres, dashboard_user, anon,
  authenticated, service_role;
grant all on schema auth to supabase_auth_admin, postgres, dashboard_user;
grant usage on schema auth to anon, authenticated, service_role;

alter schema storage owner to supabase_admin;
revoke all on schema storage from public, supabase_storage_admin, postgres, dashboard_user, anon,
  authenticated, service_role;
grant all on schema storage to supabase_storage_admin, postgres, dashboard_user;
grant usage on schema storage to anon, authenticated, service_role;

grant all on storage.buckets, storage.objects to postgres with grant option;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;

create function storage.protect_delete()
returns trigger
language plpgsql
as $$
BEGIN
    -- Check if storage.allow_delete_query is set to 'true'
    IF COALESCE(current_setting('storage.allow_delete_query', true), 'false') != 'true' THEN
        RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
            USING HINT = 'This prevents accidental data loss from orphaned objects.',
                  ERRCODE = '42501';
    END IF;
    RETURN NULL;
END;
$$;
alter function storage.protect_delete() owner to supabase_storage_admin;
grant execute on function storage.protect_delete() to postgres, anon, authenticated, service_role;

create trigger protect_buckets_delete
  before delete on storage.buckets
  for each statement execute function storage.protect_delete();
create trigger protect_objects_delete
  before delete on storage.objects
  for each statement execute function storage.protect_delete();
