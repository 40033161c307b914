-- The client contract's job object, defined once: used by the Realtime broadcast trigger and by
-- the API's reads (`select vidqueue.job_public(j) from public.jobs j ...` as `authenticated`).
--
--   vidqueue.job_public(j public.jobs) returns jsonb
--     {id, kind, status, progress, model, prompt, parent_id, retry_of, credits_cost, version,
--      video_url: null, error: null | {code, message}, created_at, updated_at, submitted_at,
--      started_at, completed_at, expected_seconds, queue_position, cancel_requested_at, deleted_at}
--     No input or result blobs and no URLs: `video_url` is always null here (SQL cannot sign a
--     Storage URL); the video-jobs function fills it in its answers.
--     `progress` (0-100) is estimated at read time: queued 0, submitted 5, in_progress 10-90 by
--     elapsed/expected seconds, finalizing 95, completed 100, failed/canceled 0.
--     `queue_position` is computed at read time, never stored: 0 while the job is being submitted,
--     1 for the next job to be dispatched, ... ; null unless the job is queued.
--   vidqueue.queue_position(p_id uuid, p_priority int, p_created_at timestamptz) returns int
--     How many waiting queued jobs (all users) are ahead in dispatch order, plus one. SECURITY DEFINER
--     because it counts other users' rows, which RLS hides from the caller; it returns a count only.

create function vidqueue.queue_position(p_id uuid, p_priority integer, p_created_at timestamptz)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select 1 + count(*)::integer
  from public.jobs q
  where q.status = 'queued'
    and q.dispatching_at is null
    and q.kind not in ('batch', 'story')
    and (q.priority > p_priority
      or (q.priority = p_priority and (q.created_at, q.id) < (p_created_at, p_id)))
$$;

create function vidqueue.job_progress(j public.jobs)
returns integer
language sql
stable
set search_path = ''
as $$
  select case j.status
    when 'queued' then 0
    when 'submitted' then 5
    when 'in_progress' then 10 + least(80, floor(80 * greatest(0,
      extract(epoch from (now() - coalesce(j.started_at, j.submitted_at, now()))))
      / coalesce(nullif(j.expected_seconds, 0), 60)))::integer
    when 'finalizing' then 95
    when 'completed' then 100
    else 0
  end
$$;

create function vidqueue.job_public(j public.jobs)
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
    'created_at', j.created_at,
    'updated_at', j.updated_at,
    'submitted_at', j.submitted_at,
    'started_at', j.started_at,
    'completed_at', j.completed_at,
    'expected_seconds', j.expected_seconds,
    'queue_position', case
      when j.status <> 'queued' then null
      when j.dispatching_at is not null then 0
      else vidqueue.queue_position(j.id, j.priority, j.created_at)
    end,
    'cancel_requested_at', j.cancel_requested_at,
    'deleted_at', j.deleted_at
  )
$$;

revoke all on function
  vidqueue.queue_position(uuid, integer, timestamptz),
  vidqueue.job_progress(public.jobs),
  vidqueue.job_public(public.jobs)
from public;
grant execute on function vidqueue.queue_position(uuid, integer, timestamptz)
  to authenticated, service_role;
grant execute on function vidqueue.job_progress(public.jobs) to authenticated, service_role;
grant execute on function vidqueue.job_public(public.jobs) to authenticated, service_role;
