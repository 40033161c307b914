-- Housekeeping when a user is deleted.
--
-- In the database this is declarative: jobs and job_events go with the auth user (ON DELETE
-- CASCADE), a slot held by one of their jobs is freed (vidqueue.slots.job_id ON DELETE SET NULL),
-- the credit account goes (cascade) and the credit ledger keeps its rows (no foreign key).
--
-- Storage objects cannot be removed here: hosted Supabase rejects DELETE on storage.objects from
-- SQL (the Storage API must delete the file and the row together), so a trigger doing it would
-- make user deletion fail. Instead the service lists what is left over and removes it through
-- the Storage API:
--   vidqueue.orphan_objects(p_limit int default 100) returns table(bucket_id text, name text)
--     Objects in `videos` and `inputs` whose owner folder (`<user_id>/...`) belongs to no user.

create function vidqueue.orphan_objects(p_limit integer default 100)
returns table (bucket_id text, name text)
language sql
stable
set search_path = ''
as $$
  select o.bucket_id, o.name
  from storage.objects o
  where o.bucket_id in ('videos', 'inputs')
    and not exists (
      select 1 from auth.users u where u.id::text = (storage.foldername(o.name))[1]
    )
  order by o.created_at
  limit greatest(0, coalesce(p_limit, 100))
$$;

revoke all on function vidqueue.orphan_objects(integer) from public, anon, authenticated, service_role;
