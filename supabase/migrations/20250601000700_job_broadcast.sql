-- Realtime: every job change that bumps `version` (creation and each transition) is broadcast to
-- the owner's private topic `jobs:<user_id>` as event `job_updated` with payload
-- {job: vidqueue.job_public(job)} (Broadcast from Database; realtime.send adds an `id`). The
-- message is written in the transition's transaction, so it is sent only if the transition
-- commits, in commit order. Clients drop events whose version is not newer than what they hold.
--
-- RLS on realtime.messages: an authenticated user may read (= join and receive on) only the
-- topic `jobs:<own uid>`. There is no insert policy, so clients cannot broadcast job events.

create function vidqueue.broadcast_job()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.version = old.version then
    return null;
  end if;
  perform realtime.send(
    jsonb_build_object('job', vidqueue.job_public(new)),
    'job_updated',
    'jobs:' || new.user_id::text,
    true
  );
  return null;
end
$$;

revoke all on function vidqueue.broadcast_job() from public, anon, authenticated, service_role;

create trigger vidqueue_broadcast_job
  after insert or update on public.jobs
  for each row execute function vidqueue.broadcast_job();

create policy "users receive their own job updates" on realtime.messages
  for select to authenticated
  using ((select realtime.topic()) = 'jobs:' || (select auth.uid())::text);
