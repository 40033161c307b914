-- Shared media: a Storage object is removed only when no live job of its user refers to it.
--
-- Several jobs can use one object: a batch or story retry takes over the finished children of
-- the old parent (vidqueue.parent_retry: the new child has the old one's storage_path), a story
-- parent shows its compose job's video (same storage_path), a compose job's input refers to the
-- scene images and narrations it combines (`storage://videos/<path>`), and the items of one
-- request share their start-image snapshot (`storage://inputs/<uid>/.snapshots/…`). So deleting
-- a job must not delete what another job still shows or needs.
--
--   vidqueue.job_media_to_remove(p_job uuid, p_user uuid) returns table(bucket_id text, name text)
--     Call after vidqueue.job_delete(p_job, p_user) has committed (video-jobs does: two
--     statements). The objects the deleted job used (and, for a batch or story, its children,
--     deleted with it): their `videos` storage_path and the start-image snapshots referred to
--     in their input, minus those that a live job of the user still refers to (by storage_path
--     or anywhere in its input). Live: not deleted, or a child of a batch or story that is not
--     deleted, since a retry of that parent takes its finished children over (so a child the
--     user deleted keeps its file until its parent goes). The caller removes them through the
--     Storage API. Two deletes that race each check after their own delete committed, so the
--     later one sees both and nothing is kept forever; a user's uploads and template images are
--     never listed.

create function vidqueue.job_media_to_remove(p_job uuid, p_user uuid)
returns table (bucket_id text, name text)
language sql
stable
set search_path = ''
as $$
  with gone as (
    select j.storage_path, j.input
    from public.jobs j
    where j.user_id = p_user and j.deleted_at is not null
      and (j.id = p_job or j.parent_id = p_job)
  ),
  used as (
    select 'videos'::text as bucket_id, g.storage_path as name
    from gone g
    where g.storage_path is not null
    union
    select 'inputs', substr(r #>> '{}', length('storage://inputs/') + 1)
    from gone g
    cross join lateral jsonb_path_query(g.input,
      'strict $.** ? (@.type() == "string" && @ starts with "storage://inputs/")') r
  )
  select u.bucket_id, u.name
  from used u
  where (u.bucket_id = 'videos'
      or (split_part(u.name, '/', 1) = p_user::text and split_part(u.name, '/', 2) = '.snapshots'))
    and not exists (
      select 1
      from public.jobs l
      left join public.jobs p on p.id = l.parent_id
      where l.user_id = p_user
        and (l.deleted_at is null or (p.id is not null and p.deleted_at is null))
        and ((u.bucket_id = 'videos' and l.storage_path = u.name)
          or jsonb_path_exists(l.input, 'strict $.** ? (@ == $ref)',
            jsonb_build_object('ref', 'storage://' || u.bucket_id || '/' || u.name))))
$$;

revoke all on function vidqueue.job_media_to_remove(uuid, uuid)
from public, anon, authenticated, service_role;
