-- The client's job object says why a queued job waits: `queue_reason` is null, or, while the job
-- is queued after the provider refused its submit (20251207400000_dispatch_attempts.sql),
-- `{code, message, retry_at}` — e.g. `{"code":"provider_unavailable","message":"fal answered
-- 503","retry_at":"…"}` — where retry_at is when it will be submitted again. `error` stays null
-- meanwhile: the job has not failed. Every other key is unchanged.
--
--   vidqueue.job_public(j public.jobs) returns jsonb
--     SUPERSEDES the definition in 20250603000000_pipeline_jobs.sql (same signature, grants
--     kept), plus `queue_reason`.

create or replace function vidqueue.job_public(j public.jobs)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', j.id,
    'kind', j.kind,
    'status', j.status,
    'progress', vidqueue.job_progress(j),
    'model', j.model,
    'prompt', j.input ->> 'prompt',
    'parent_id', j.parent_id,
    'retry_of', j.retry_of,
    'credits_cost', j.cost,
    'version', j.version,
    'video_url', null,
    'error', case when j.error_code is null and j.error_message is null then null
      else jsonb_build_object('code', coalesce(j.error_code, 'error'), 'message', j.error_message)
    end,
    'queue_reason', case when j.status = 'queued' and j.queue_reason is not null
      then j.queue_reason || jsonb_build_object('retry_at', j.next_attempt_at)
    end,
    'created_at', j.created_at,
    'updated_at', j.updated_at,
    'submitted_at', j.submitted_at,
    'started_at', j.started_at,
    'completed_at', j.completed_at,
    'expected_seconds', j.expected_seconds,
    'queue_position', case
      when j.status <> 'queued' or j.kind in ('batch', 'story') then null
      when j.dispatching_at is not null then 0
      when j.next_attempt_at = 'infinity'::timestamptz then null
      else vidqueue.queue_position(j.id, j.priority, j.created_at)
    end,
    'cancel_requested_at', j.cancel_requested_at,
    'deleted_at', j.deleted_at
  ) || case
    when j.kind in ('batch', 'story') then jsonb_build_object('pipeline', j.result)
    when j.parent_id is not null then jsonb_build_object('item', j.item)
    else '{}'::jsonb
  end
$$;
