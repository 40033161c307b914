-- Deleting a user the way GoTrue does: `delete from auth.users where id = ...` as
-- supabase_auth_admin, a role with no rights in schema `vidqueue` or on Vidqueue's tables.
--
-- What that delete reaches (foreign keys and triggers):
--   auth.users   -> public.jobs (user_id, cascade) -> public.jobs children (parent_id, cascade),
--                   retries (retry_of, set null: an UPDATE of jobs), public.job_events (cascade),
--                   vidqueue.slots (job_id, set null: the slot is free again)
--                -> public.credit_accounts (cascade)
--                   public.credit_ledger has no foreign key and keeps its rows.
--   Triggers fired: on public.jobs the statement trigger vidqueue_admin_stats (DELETE and the
--   retry_of UPDATE, even when the user has no job at all) and the row triggers
--   vidqueue_broadcast_job and vidqueue_sync_parent (the retry_of UPDATE). The cascades
--   themselves run as the tables' owner, but the AFTER triggers they queue fire afterwards, as
--   the deleting role: `permission denied for schema vidqueue` until now. Those three trigger
--   functions are therefore SECURITY DEFINER (owner postgres, search_path '', EXECUTE revoked
--   from PUBLIC, as every vidqueue function): whoever changes jobs, they publish as the service.
--
-- What happens to the user's things (docs/hosted-parity.md, "Deleting a user"):
-- * Jobs and their events are deleted with the user, in every state. A job at fal is not
--   cancelled there (that needs the fal API, not SQL): its request runs to its end and its
--   webhook then matches no job and is answered 200 with nothing changed; the reconciler never
--   sees it again (it only chases jobs that exist). A slot it held is freed by the cascade.
-- * Money: the ledger keeps every row, with the user's and jobs' ids (append-only accounting
--   record, no foreign key on purpose; once the auth user is gone the id names nobody, and the
--   rows hold no e-mail or prompt). So that the books close, every reservation still open
--   (queued or in-flight jobs) is released by a `release` row with reason 'user deleted',
--   written before the account goes: per job, reserve is followed by exactly one capture or
--   release, as for every other job.
--   vidqueue.on_auth_user_deleted() (BEFORE DELETE on auth.users, SECURITY DEFINER) does this,
--   after locking the user's jobs so that a concurrent transition cannot settle one of them
--   twice.
-- * Stored files stay: hosted Storage refuses DELETE on storage.objects from SQL (only its API
--   removes a file and its row together), so a trigger cannot remove them. Objects in `videos`
--   and `inputs` under `<uid>/` of a user who no longer exists are listed by
--   vidqueue.orphan_objects(p_limit) for removal through the Storage API. It now lists only
--   folders named by a user id, so service-owned files in other folders (e.g. a template's start
--   image under `templates/`) are never taken for a deleted user's.

alter function vidqueue.admin_stats_on_change() security definer;
alter function vidqueue.broadcast_job() security definer;
alter function vidqueue.sync_parent_of_job() security definer;

create function vidqueue.on_auth_user_deleted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform 1 from public.jobs j where j.user_id = old.id order by j.id for update;
  insert into public.credit_ledger (user_id, job_id, kind, amount, reason)
  select r.user_id, r.job_id, 'release', r.amount, 'user deleted'
  from public.credit_ledger r
  where r.user_id = old.id
    and r.kind = 'reserve'
    and not exists (
      select 1 from public.credit_ledger s
      where s.job_id = r.job_id and s.kind in ('capture', 'release'))
  order by r.id
  on conflict do nothing;
  return old;
end
$$;

revoke all on function vidqueue.on_auth_user_deleted() from public, anon, authenticated, service_role;

create trigger vidqueue_on_user_delete
  before delete on auth.users
  for each row execute function vidqueue.on_auth_user_deleted();

create or replace function vidqueue.orphan_objects(p_limit integer default 100)
returns table (bucket_id text, name text)
language sql
stable
set search_path = ''
as $$
  select o.bucket_id, o.name
  from storage.objects o
  where o.bucket_id in ('videos', 'inputs')
    and split_part(o.name, '/', 1)
      ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    and not exists (
      select 1 from auth.users u where u.id::text = split_part(o.name, '/', 1)
    )
  order by o.created_at
  limit greatest(0, coalesce(p_limit, 100))
$$;
