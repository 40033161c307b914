-- Parent jobs (batch | story) and their children, as the client sees them.
--
-- Two columns on public.jobs (not part of the state machine):
--   item   the child's place in its parent, 1-based: the item number of a batch, the scene
--          number of a story (null for a story's compose job and for top-level jobs).
--   media  what we learned about a job's stored media after copying it (e.g.
--          {"duration_ms": 4120} for narration audio, which the story's compose timeline needs).
--
-- A story child that must wait for other children (a scene's narration waits for the scene's
-- image; the compose job waits for every scene) is created `queued` with
-- next_attempt_at = 'infinity', so vidqueue.job_claim never picks it, and is released by
-- vidqueue.parent_sync (20250603000100_parent_sync.sql) when its inputs exist. Such a waiting job
-- has no queue position and does not count in other jobs' queue positions.
--
-- Replaced read helpers (same signatures, grants kept):
--   vidqueue.job_progress(j)  parents: the children's progress weighted by their expected
--     seconds (read time, through RLS for users, deleted and superseded children left out);
--     a completed parent is 100, a failed or canceled one 0, as for every job.
--   vidqueue.job_public(j)    plus `pipeline` for parents (their children summary, kept in
--     `result` by parent_sync) and `item` for children; other jobs keep exactly the public keys.
--   vidqueue.queue_position   waiting story children are not counted.
-- A child is superseded when a later child of the same parent retries it (`retry_of`).

alter table public.jobs
  add column item integer check (item is null or item between 1 and 100),
  add column media jsonb check (media is null or jsonb_typeof(media) = 'object');
comment on column public.jobs.item is
  'Place of a child in its parent (batch item or story scene number, 1-based).';
comment on column public.jobs.media is
  'Facts about the stored media (duration_ms for audio), recorded after the Storage copy.';

create or replace function vidqueue.job_progress(j public.jobs)
returns integer
language sql
stable
set search_path = ''
as $$
  select case
    when j.kind in ('batch', 'story') and j.status not in ('completed', 'failed', 'canceled') then (
      select coalesce(floor(sum(w.weight * w.progress) / nullif(sum(w.weight), 0)), 0)::integer
      from (
        select coalesce(c.expected_seconds, 60) as weight, vidqueue.job_progress(c) as progress
        from public.jobs c
        where c.parent_id = j.id
          and c.deleted_at is null
          and not exists (
            select 1 from public.jobs r where r.parent_id = j.id and r.retry_of = c.id)
      ) w)
    else case j.status
      when 'queued' then 0
      when 'submitted' then 5
      when 'in_progress' then 10 + least(80, floor(80 * greatest(0,
        extract(epoch from (now() - coalesce(j.started_at, j.submitted_at, now()))))
        / coalesce(nullif(j.expected_seconds, 0), 60)))::integer
      when 'finalizing' then 95
      when 'completed' then 100
      else 0
    end
  end
$$;

create or replace function vidqueue.queue_position(
  p_id uuid, p_priority integer, p_created_at timestamptz
)
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
    and q.next_attempt_at is distinct from 'infinity'::timestamptz
    and (q.priority > p_priority
      or (q.priority = p_priority and (q.created_at, q.id) < (p_created_at, p_id)))
$$;

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

-- Records facts about a finalizing job's stored media (merged into `media`), before
-- vidqueue.job_completed. Not a transition: `version` is not bumped, nothing is broadcast.
-- Returns NULL when the job is not finalizing.
create function vidqueue.job_media(p_job uuid, p_media jsonb)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_media is null or jsonb_typeof(p_media) <> 'object' then
    raise exception using errcode = 'VQ400', message = 'job_media needs a JSON object';
  end if;
  update public.jobs
  set media = coalesce(media, '{}'::jsonb) || p_media
  where id = p_job and status = 'finalizing'
  returning * into v_job;
  return v_job;
end
$$;

revoke all on function vidqueue.job_media(uuid, jsonb) from public, anon, authenticated, service_role;
