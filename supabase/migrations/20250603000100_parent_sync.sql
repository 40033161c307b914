-- Parents follow their children: every change of a child (and every change of a parent made by
-- its owner, such as a cancel or a delete) runs vidqueue.parent_sync(parent) in the same
-- transaction, which moves the story forward and derives the parent's status, summary and cost.
-- Parents never run at fal and hold no reservation: every child reserves, captures or releases
-- its own credits.
--
-- vidqueue.parent_sync(p_parent uuid) returns void
--   Locks the parent row (so siblings' changes are applied one at a time), then, for
--   a parent deleted by its owner: hides its finished children too;
--   a parent whose cancel was requested: cancels its unfinished children (vidqueue.job_cancel:
--     queued ones at once with their credits released, ones at fal by a cancel request);
--   a story with a failed or canceled child (a scene failed for good): cancels its queued
--     children (their credits are released); children already at fal run to the end, so their
--     results can be reused by a retry of the story;
--   any other story: releases a scene's narration once the scene's image is completed, and the
--     compose job (its input built from the scenes' stored images and narrations and the
--     narrations' durations) once every scene is complete.
--   Then derives the parent from its current children (a child retried by a later child of the
--   same parent is superseded and left out):
--     queued       while every child is still waiting in the queue;
--     in_progress  once one has left it (started_at set), until all are finished;
--     completed    when all completed (a story's video is its compose job's: storage_path);
--     canceled     all finished, not all completed, and the parent's cancel was requested or no
--                  child failed;
--     failed       otherwise; error: a story's first failed scene ("scene_failed",
--                  "compose_failed") - set as soon as it fails, while the story is still
--                  finishing - or a batch's "items_failed" ("2 of 5 items failed").
--   and keeps in `result` a summary for clients (job_public's `pipeline`):
--     {total, completed, failed, canceled, active, stage?, kinds?}, where a story's `stage` is
--     images | narration | compose | done | failing | canceling and `kinds` counts per kind.
--   A terminal parent keeps its status; only its summary follows late children.
--   The parent's version is bumped (and it is broadcast) only when something changed.
--   Never waits for a child's row lock (FOR UPDATE SKIP LOCKED), so it cannot deadlock with a
--   child's transition waiting for the parent; a child skipped because it is changing right now
--   is handled by the sync that its own change runs next.
-- Guard on insert: a story's children are created only by vidqueue.parent_create (a scene is not
-- retried on its own: retry the story), and a finished batch takes no new child (retry the
-- batch); both raise VQ409 with HINT 'client_message' (the message is meant for the user). A
-- child retrying another child of the same parent takes its `item`.

create function vidqueue.current_children(p_parent uuid)
returns setof public.jobs
language sql
stable
set search_path = ''
as $$
  select c.*
  from public.jobs c
  where c.parent_id = p_parent
    and not exists (
      select 1 from public.jobs r where r.parent_id = p_parent and r.retry_of = c.id)
$$;

-- The compose input of a story whose scenes all have a completed image and narration, laid out
-- back to back, each scene as long as its narration; NULL while a scene is missing. Media are
-- referenced as `storage://videos/<path>`: the dispatcher turns them into signed URLs.
create function vidqueue.story_compose_input(p_story uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with scenes as (
    select i.item, i.storage_path as image_path, a.storage_path as audio_path,
      greatest(100, coalesce((a.media ->> 'duration_ms')::integer, 3000)) as ms
    from vidqueue.current_children(p_story) i
    join vidqueue.current_children(p_story) a on a.item = i.item and a.kind = 'audio'
    where i.kind = 'image' and i.status = 'completed' and a.status = 'completed'
      and i.storage_path is not null and a.storage_path is not null
  ),
  timeline as (
    select s.item, s.image_path, s.audio_path, s.ms,
      coalesce(sum(s.ms) over (order by s.item rows between unbounded preceding and 1 preceding),
        0)::integer as at
    from scenes s
  )
  select case
    when count(*) > 0 and count(*) = (
      select count(distinct c.item) from vidqueue.current_children(p_story) c
      where c.kind in ('image', 'audio'))
    then jsonb_build_object('tracks', jsonb_build_array(
      jsonb_build_object('id', 'scenes', 'type', 'video', 'keyframes',
        jsonb_agg(jsonb_build_object('url', 'storage://videos/' || t.image_path,
          'timestamp', t.at, 'duration', t.ms) order by t.item)),
      jsonb_build_object('id', 'narration', 'type', 'audio', 'keyframes',
        jsonb_agg(jsonb_build_object('url', 'storage://videos/' || t.audio_path,
          'timestamp', t.at, 'duration', t.ms) order by t.item))))
  end
  from timeline t
$$;

-- A waiting story child may run now (with its input, for the compose job).
create function vidqueue.release_child(p_job uuid, p_input jsonb)
returns public.jobs
language plpgsql
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  update public.jobs
  set next_attempt_at = null, input = coalesce(p_input, input), version = version + 1,
    updated_at = now()
  where id = p_job and status = 'queued' and next_attempt_at = 'infinity'::timestamptz
  returning * into v_job;
  if found then
    perform vidqueue.log_event(v_job, 'released', 'queued');
  end if;
  return v_job;
end
$$;

-- The summary kept in a parent's `result` (see the header).
create function vidqueue.parent_summary(p_parent public.jobs)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_summary jsonb;
  v_kinds jsonb;
  v_stage text;
begin
  select jsonb_build_object(
      'total', count(*),
      'completed', count(*) filter (where c.status = 'completed'),
      'failed', count(*) filter (where c.status = 'failed'),
      'canceled', count(*) filter (where c.status = 'canceled'),
      'active', count(*) filter (where c.status not in ('completed', 'failed', 'canceled')))
    into v_summary
  from vidqueue.current_children(p_parent.id) c;
  if p_parent.kind <> 'story' then
    return v_summary;
  end if;
  select jsonb_object_agg(k.kind, k.counts) into v_kinds
  from (
    select c.kind, jsonb_build_object(
        'total', count(*),
        'completed', count(*) filter (where c.status = 'completed'),
        'failed', count(*) filter (where c.status = 'failed'),
        'canceled', count(*) filter (where c.status = 'canceled'),
        'active', count(*) filter (where c.status not in ('completed', 'failed', 'canceled')))
      as counts
    from vidqueue.current_children(p_parent.id) c
    group by c.kind
  ) k;
  v_stage := case
    when p_parent.status in ('completed', 'failed', 'canceled') then
      case p_parent.status when 'completed' then 'done' else p_parent.status end
    when p_parent.cancel_requested_at is not null then 'canceling'
    when (v_summary ->> 'failed')::integer + (v_summary ->> 'canceled')::integer > 0 then 'failing'
    when coalesce((v_kinds #>> '{image,completed}')::integer, 0)
      < coalesce((v_kinds #>> '{image,total}')::integer, 0) then 'images'
    when coalesce((v_kinds #>> '{audio,completed}')::integer, 0)
      < coalesce((v_kinds #>> '{audio,total}')::integer, 0) then 'narration'
    when coalesce((v_kinds #>> '{compose,completed}')::integer, 0)
      < coalesce((v_kinds #>> '{compose,total}')::integer, 0) then 'compose'
    else 'done'
  end;
  return v_summary || jsonb_build_object('stage', v_stage, 'kinds', coalesce(v_kinds, '{}'::jsonb));
end
$$;

create function vidqueue.parent_sync(p_parent uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_parent public.jobs;
  v_job public.jobs;
  v_first public.jobs;
  v_id uuid;
  v_input jsonb;
  v_n integer;
  v_active integer;
  v_waiting integer;
  v_completed integer;
  v_failed integer;
  v_cost integer;
  v_expected integer;
  v_status text;
  v_from text;
  v_code text;
  v_message text;
  v_path text;
  v_summary jsonb;
begin
  if p_parent is null
    or coalesce(current_setting('vidqueue.sync_parent', true), '') = p_parent::text then
    return;
  end if;
  select * into v_parent from public.jobs j where j.id = p_parent for update;
  if not found or v_parent.kind not in ('batch', 'story') then
    return;
  end if;
  -- Changes made below to the children (and to the parent) must not sync this parent again.
  perform set_config('vidqueue.sync_parent', p_parent::text, true);

  if v_parent.deleted_at is not null then
    for v_id in
      select c.id from public.jobs c
      where c.parent_id = p_parent and c.deleted_at is null
        and c.status in ('completed', 'failed', 'canceled')
      for update skip locked
    loop
      perform vidqueue.job_delete(v_id, v_parent.user_id);
    end loop;
  elsif v_parent.cancel_requested_at is not null then
    for v_id in
      select c.id from public.jobs c
      where c.parent_id = p_parent and c.cancel_requested_at is null
        and c.status in ('queued', 'submitted', 'in_progress')
      for update skip locked
    loop
      perform vidqueue.job_cancel(v_id, v_parent.user_id);
    end loop;
  elsif v_parent.kind = 'story' then
    if exists (
      select 1 from vidqueue.current_children(p_parent) c where c.status in ('failed', 'canceled')
    ) then
      for v_id in
        select c.id from public.jobs c
        where c.parent_id = p_parent and c.status = 'queued' and c.cancel_requested_at is null
        for update skip locked
      loop
        perform vidqueue.job_cancel(v_id, v_parent.user_id);
      end loop;
    else
      for v_id in
        select a.id from public.jobs a
        where a.parent_id = p_parent and a.kind = 'audio' and a.status = 'queued'
          and a.next_attempt_at = 'infinity'::timestamptz
          and exists (
            select 1 from public.jobs i
            where i.parent_id = p_parent and i.kind = 'image' and i.item = a.item
              and i.status = 'completed')
        for update of a skip locked
      loop
        perform vidqueue.release_child(v_id, null);
      end loop;
      select c.id into v_id from public.jobs c
      where c.parent_id = p_parent and c.kind = 'compose' and c.status = 'queued'
        and c.next_attempt_at = 'infinity'::timestamptz
      limit 1
      for update skip locked;
      if v_id is not null then
        v_input := vidqueue.story_compose_input(p_parent);
        if v_input is not null then
          perform vidqueue.release_child(v_id, v_input);
        end if;
      end if;
    end if;
  end if;

  select count(*)::integer,
      (count(*) filter (where c.status not in ('completed', 'failed', 'canceled')))::integer,
      (count(*) filter (where c.status = 'queued' and c.dispatching_at is null))::integer,
      (count(*) filter (where c.status = 'completed'))::integer,
      (count(*) filter (where c.status = 'failed'))::integer,
      coalesce(sum(c.cost), 0)::integer,
      coalesce(sum(c.expected_seconds), 0)::integer
    into v_n, v_active, v_waiting, v_completed, v_failed, v_cost, v_expected
  from vidqueue.current_children(p_parent) c;

  v_status := v_parent.status;
  v_code := v_parent.error_code;
  v_message := v_parent.error_message;
  if v_n > 0 and v_parent.status not in ('completed', 'failed', 'canceled') then
    v_status := case
      when v_active > 0 and v_waiting = v_n and v_parent.status = 'queued' then 'queued'
      when v_active > 0 then 'in_progress'
      when v_completed = v_n then 'completed'
      when v_parent.cancel_requested_at is not null or v_failed = 0 then 'canceled'
      else 'failed'
    end;
    v_code := null;
    v_message := null;
    if v_parent.kind = 'story' and v_parent.cancel_requested_at is null then
      select * into v_first from vidqueue.current_children(p_parent) c
      where c.status in ('failed', 'canceled')
      order by c.status = 'canceled', c.finished_at, c.id
      limit 1;
      if v_first.id is not null and v_first.status = 'failed' then
        v_code := case when v_first.kind = 'compose' then 'compose_failed' else 'scene_failed' end;
        v_message := case
          when v_first.kind = 'compose' then 'The scenes could not be joined into one video: '
          else format('Scene %s (%s) failed: ', v_first.item,
            case v_first.kind when 'image' then 'image' else 'narration' end)
        end || coalesce(v_first.error_message, v_first.error_code, 'unknown error');
      end if;
    elsif v_status = 'failed' then
      v_code := 'items_failed';
      v_message := format('%s of %s items failed.', v_failed, v_n);
    end if;
    if v_status = 'completed' and v_parent.kind = 'story' then
      select c.storage_path into v_path from vidqueue.current_children(p_parent) c
      where c.kind = 'compose' and c.status = 'completed'
      limit 1;
    end if;
  end if;
  v_from := v_parent.status;
  v_parent.status := v_status;
  v_summary := vidqueue.parent_summary(v_parent);

  update public.jobs p
  set status = v_status,
    cost = v_cost,
    expected_seconds = nullif(v_expected, 0),
    result = v_summary,
    started_at = case when v_status <> 'queued' then coalesce(p.started_at, now()) end,
    finished_at = case
      when v_status in ('completed', 'failed', 'canceled') then coalesce(p.finished_at, now())
    end,
    completed_at = case when v_status = 'completed' then coalesce(p.completed_at, now()) end,
    storage_path = coalesce(v_path, p.storage_path),
    error_code = v_code,
    error_message = v_message,
    version = p.version + 1,
    updated_at = now()
  where p.id = p_parent
    and (p.status, p.cost, p.expected_seconds, p.result, p.error_code, p.error_message,
      p.storage_path) is distinct from (v_status, v_cost, nullif(v_expected, 0), v_summary,
      v_code, v_message, coalesce(v_path, p.storage_path))
  returning * into v_job;
  if v_job.id is not null and v_job.status <> v_from then
    perform vidqueue.log_event(v_job,
      case v_job.status when 'in_progress' then 'started' else v_job.status end, v_from,
      jsonb_build_object('summary', v_summary));
  end if;
  perform set_config('vidqueue.sync_parent', '', true);
end
$$;

create function vidqueue.sync_parent_of_job()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.version = old.version then
    return null;
  end if;
  if new.parent_id is not null then
    perform vidqueue.parent_sync(new.parent_id);
  elsif tg_op = 'UPDATE' and new.kind in ('batch', 'story') then
    perform vidqueue.parent_sync(new.id);
  end if;
  return null;
end
$$;

create function vidqueue.check_child_insert()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_kind text;
  v_status text;
begin
  select p.kind, p.status into v_kind, v_status from public.jobs p where p.id = new.parent_id;
  if v_kind = 'story'
    and coalesce(current_setting('vidqueue.sync_parent', true), '') <> new.parent_id::text then
    raise exception using errcode = 'VQ409', hint = 'client_message',
      message = 'The scenes of a story are not retried one by one: retry the story.';
  end if;
  if v_kind = 'batch' and v_status in ('completed', 'failed', 'canceled') then
    raise exception using errcode = 'VQ409', hint = 'client_message',
      message = 'This batch is finished: retry the batch to redo its failed items.';
  end if;
  if new.retry_of is not null and new.item is null then
    select r.item into new.item
    from public.jobs r
    where r.id = new.retry_of and r.parent_id = new.parent_id;
  end if;
  return new;
end
$$;

revoke all on function
  vidqueue.current_children(uuid),
  vidqueue.story_compose_input(uuid),
  vidqueue.release_child(uuid, jsonb),
  vidqueue.parent_summary(public.jobs),
  vidqueue.parent_sync(uuid),
  vidqueue.sync_parent_of_job(),
  vidqueue.check_child_insert()
from public, anon, authenticated, service_role;

-- Named to run after vidqueue_broadcast_job (triggers fire in name order), so a child's own
-- event is sent before the parent's.
create trigger vidqueue_sync_parent
  after insert or update on public.jobs
  for each row execute function vidqueue.sync_parent_of_job();

create trigger vidqueue_check_child
  before insert on public.jobs
  for each row when (new.parent_id is not null)
  execute function vidqueue.check_child_insert();
