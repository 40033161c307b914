-- What an admin may do to a stuck job (the dashboard's stuck-job list). Both check
-- vidqueue.require_admin() against the caller's claims (the admin-queue function sets them), are
-- guarded by the states they may leave like every transition, bump `version` (so the owner's
-- client hears of it), free the job's slot and write a job_events row naming the admin.
--
--   vidqueue.admin_requeue(p_job uuid) returns public.jobs
--     Dispatch again now. queued + dispatching | submitted | in_progress -> queued (request id,
--     submitted_at and started_at cleared; the old request id is kept in the event), and a queued
--     job waiting for a retry (next_attempt_at in the future, not a story child waiting for its
--     inputs) becomes due at once. Gives the job one more attempt if it had none left. The
--     reservation is kept. The caller asks fal to cancel the old request and dispatches.
--     NULL (nothing changed) in any other state.
--   vidqueue.admin_cancel(p_job uuid, p_reason text default null) returns public.jobs
--     Any non-terminal job (not a batch/story parent) -> canceled + release. An admin's cancel
--     is final: unlike a user's cancel of a job at fal, it does not wait for fal's answer (a
--     result arriving later is a no-op). The caller asks fal to cancel the request.
--     NULL when the job is already terminal, a parent, or missing.

create function vidqueue.admin_requeue(p_job uuid)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_job public.jobs;
begin
  perform vidqueue.require_admin();
  select * into v_old from public.jobs j where j.id = p_job for update;
  if not found or v_old.kind in ('batch', 'story') then
    return null;
  end if;
  if (v_old.status = 'queued' and v_old.dispatching_at is not null)
      or v_old.status in ('submitted', 'in_progress') then
    update public.jobs
    set status = 'queued', dispatching_at = null, next_attempt_at = null,
      provider_request_id = null, submitted_at = null, started_at = null,
      max_attempts = greatest(max_attempts, attempts + 1),
      version = version + 1, updated_at = now()
    where id = p_job
    returning * into v_job;
    perform vidqueue.free_slot(p_job);
  elsif v_old.status = 'queued' and v_old.next_attempt_at > now()
      and v_old.next_attempt_at <> 'infinity'::timestamptz then
    update public.jobs
    set next_attempt_at = null, max_attempts = greatest(max_attempts, attempts + 1),
      version = version + 1, updated_at = now()
    where id = p_job
    returning * into v_job;
  else
    return null;
  end if;
  perform vidqueue.log_event(v_job, 'requeued_by_admin', v_old.status,
    jsonb_build_object('admin', auth.uid(), 'request_id', v_old.provider_request_id,
      'attempt', v_old.attempts));
  return v_job;
end
$$;

create function vidqueue.admin_cancel(p_job uuid, p_reason text default null)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_job public.jobs;
begin
  perform vidqueue.require_admin();
  select * into v_old from public.jobs j where j.id = p_job for update;
  if not found or v_old.kind in ('batch', 'story')
      or v_old.status in ('completed', 'failed', 'canceled') then
    return null;
  end if;
  update public.jobs
  set status = 'canceled', cancel_requested_at = coalesce(cancel_requested_at, now()),
    dispatching_at = null, finished_at = now(), version = version + 1, updated_at = now()
  where id = p_job
  returning * into v_job;
  perform vidqueue.free_slot(p_job);
  perform vidqueue.settle_credits(v_job, 'release');
  perform vidqueue.log_event(v_job, 'canceled_by_admin', v_old.status,
    jsonb_build_object('admin', auth.uid(), 'reason', p_reason,
      'request_id', v_old.provider_request_id));
  return v_job;
end
$$;

revoke all on function
  vidqueue.admin_requeue(uuid),
  vidqueue.admin_cancel(uuid, text)
from public, anon, authenticated, service_role;
