-- Creating a batch or a story, and retrying one, all or nothing.
--
-- vidqueue.parent_create(p_user uuid, p_kind text, p_input jsonb, p_children jsonb,
--     p_priority int, p_idempotency_key text, p_request_hash text, p_limits jsonb default '{}',
--     p_retry_of uuid default null, p_max_attempts int default 3)
--   returns table(job public.jobs, replayed boolean)
--   The parent (kind batch | story, no model, cost 0) goes through vidqueue.job_create, so the
--   idempotency key, the per-user limits and the per-user lock apply to the request as a whole
--   (a replay returns the parent and creates nothing). Then, in the same transaction, every child
--   of p_children is created:
--     {"kind", "model", "input", "cost", "item", "retry_of"?}  a new queued job, or
--     {"reuse_of": <job id>}                                  a completed job of the user's, taken
--                                                              over as a completed child that
--                                                              costs nothing (its stored media
--                                                              are shared, not copied).
--   The credits of all new children are reserved with one guarded update, each child getting
--   its own `reserve` ledger row; when the user has too few, VQ402 (DETAIL = available credits)
--   and nothing at all is written. A story must have, for each scene number 1..n, one image and
--   one audio child, plus exactly one compose child; its narrations and compose job are created
--   waiting (next_attempt_at = 'infinity') and vidqueue.parent_sync releases them. A batch takes
--   1..100 video, image or audio children.
-- vidqueue.parent_retry(p_user uuid, p_parent uuid, p_priority int, p_limits jsonb default '{}')
--   returns table(job public.jobs, replayed boolean)
--   A user's retry of their failed or canceled batch/story (else VQ409; VQ404 when not theirs):
--   a new parent (retry_of = the old one, idempotency key `retry:<old id>`) whose completed
--   children are reused and whose other children are created again (retry_of = the old child),
--   reserving only what is redone. Refused (VQ409) while a child of the old parent is still
--   running. VQ409 raised here carry HINT 'client_message'.

create function vidqueue.parent_create_tx(
  p_user uuid,
  p_kind text,
  p_input jsonb,
  p_children jsonb,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns vidqueue.job_create_result
language plpgsql
set search_path = ''
as $$
declare
  v_result vidqueue.job_create_result;
  v_parent public.jobs;
  v_job public.jobs;
  v_old public.jobs;
  v_model public.models;
  v_child jsonb;
  v_kind text;
  v_cost integer;
  v_total integer := 0;
  v_available integer;
begin
  if p_kind is null or p_kind not in ('batch', 'story') then
    raise exception using errcode = 'VQ400', message = 'a parent is a batch or a story';
  end if;
  if p_children is null or jsonb_typeof(p_children) <> 'array'
    or jsonb_array_length(p_children) not between 1 and 100 then
    raise exception using errcode = 'VQ400', message = 'a parent needs 1 to 100 children';
  end if;

  v_result := vidqueue.job_create_tx(p_user, p_kind, null, p_input, 0, p_priority,
    p_idempotency_key, p_request_hash, p_limits, null, p_retry_of, p_max_attempts);
  if v_result.replayed then
    return v_result;
  end if;
  v_parent := v_result.job;

  for v_child in select c from jsonb_array_elements(p_children) c
  loop
    if not v_child ? 'reuse_of' then
      v_cost := coalesce((v_child ->> 'cost')::integer, 0);
      if v_cost < 0 then
        raise exception using errcode = 'VQ400', message = 'cost must not be negative';
      end if;
      v_total := v_total + v_cost;
    end if;
  end loop;
  if v_total > 0 then
    update public.credit_accounts
    set available = available - v_total, reserved = reserved + v_total, updated_at = now()
    where user_id = p_user and available >= v_total;
    if not found then
      select a.available into v_available from public.credit_accounts a where a.user_id = p_user;
      raise exception using errcode = 'VQ402',
        message = format('insufficient credits: %s needed for the whole %s', v_total, p_kind),
        detail = coalesce(v_available, 0)::text;
    end if;
  end if;

  -- The children's own inserts must not sync the parent one by one (see parent_sync).
  perform set_config('vidqueue.sync_parent', v_parent.id::text, true);
  for v_child in select c from jsonb_array_elements(p_children) c
  loop
    if v_child ? 'reuse_of' then
      select * into v_old from public.jobs o
      where o.id = (v_child ->> 'reuse_of')::uuid and o.user_id = p_user
        and o.status = 'completed';
      if v_old.id is null then
        raise exception using errcode = 'VQ404', message = 'unknown completed job to reuse';
      end if;
      insert into public.jobs (
        user_id, parent_id, retry_of, kind, model, input, status, priority, cost,
        expected_seconds, max_attempts, item, storage_path, result, media, completed_at,
        finished_at
      ) values (
        p_user, v_parent.id, v_old.id, v_old.kind, v_old.model, v_old.input, 'completed',
        coalesce(p_priority, 0), 0, v_old.expected_seconds, v_old.max_attempts, v_old.item,
        v_old.storage_path, v_old.result, v_old.media, now(), now()
      )
      returning * into v_job;
      perform vidqueue.log_event(v_job, 'reused', null, jsonb_build_object('from', v_old.id));
      continue;
    end if;
    v_kind := v_child ->> 'kind';
    if v_kind is null
      or (p_kind = 'story' and v_kind not in ('image', 'audio', 'compose'))
      or (p_kind = 'batch' and v_kind not in ('video', 'image', 'audio')) then
      raise exception using errcode = 'VQ400',
        message = format('a %s cannot have a %s child', p_kind, coalesce(v_kind, 'kindless'));
    end if;
    select * into v_model from public.models m where m.id = v_child ->> 'model';
    if not coalesce(v_model.enabled, false) then
      raise exception using errcode = 'VQ404',
        message = format('unknown model %s', v_child ->> 'model');
    end if;
    if v_model.kind <> v_kind then
      raise exception using errcode = 'VQ400',
        message = format('model %s makes %s, not %s', v_model.id, v_model.kind, v_kind);
    end if;
    insert into public.jobs (
      user_id, parent_id, retry_of, kind, model, input, priority, cost, expected_seconds,
      max_attempts, item, next_attempt_at
    ) values (
      p_user, v_parent.id, (v_child ->> 'retry_of')::uuid, v_kind, v_model.id,
      coalesce(v_child -> 'input', '{}'::jsonb), coalesce(p_priority, 0),
      coalesce((v_child ->> 'cost')::integer, 0), v_model.expected_seconds,
      coalesce(p_max_attempts, 3), (v_child ->> 'item')::integer,
      case when p_kind = 'story' and v_kind in ('audio', 'compose') then 'infinity'::timestamptz end
    )
    returning * into v_job;
    if v_job.cost > 0 then
      insert into public.credit_ledger (user_id, job_id, kind, amount, reason)
      values (p_user, v_job.id, 'reserve', v_job.cost, 'job created');
    end if;
    perform vidqueue.log_event(v_job, 'created', null, jsonb_build_object('cost', v_job.cost));
  end loop;

  if p_kind = 'story' and (
    (select count(*) from public.jobs c where c.parent_id = v_parent.id and c.kind = 'compose'
       and c.item is null) <> 1
    or exists (
      select 1
      from (select count(*) filter (where c.kind = 'image') as images,
              count(*) filter (where c.kind = 'audio') as narrations
            from public.jobs c where c.parent_id = v_parent.id and c.item is not null
            group by c.item) s
      where s.images <> 1 or s.narrations <> 1)
    or (select coalesce(max(c.item), 0) from public.jobs c where c.parent_id = v_parent.id)
      <> (select count(distinct c.item) from public.jobs c where c.parent_id = v_parent.id)
    or exists (select 1 from public.jobs c where c.parent_id = v_parent.id and c.item < 1)
  ) then
    raise exception using errcode = 'VQ400',
      message = 'a story needs one image and one narration per scene 1..n and one compose job';
  end if;

  perform set_config('vidqueue.sync_parent', '', true);
  perform vidqueue.parent_sync(v_parent.id);
  select * into v_parent from public.jobs j where j.id = v_parent.id;
  v_result.job := v_parent;
  v_result.replayed := false;
  return v_result;
end
$$;

create function vidqueue.parent_create(
  p_user uuid,
  p_kind text,
  p_input jsonb,
  p_children jsonb,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns table (job public.jobs, replayed boolean)
language sql
set search_path = ''
as $$
  select r.job, r.replayed
  from vidqueue.parent_create_tx(p_user, p_kind, p_input, p_children, p_priority,
    p_idempotency_key, p_request_hash, p_limits, p_retry_of, p_max_attempts) r
$$;

create function vidqueue.parent_retry_tx(
  p_user uuid, p_parent uuid, p_priority integer, p_limits jsonb default '{}'::jsonb
)
returns vidqueue.job_create_result
language plpgsql
set search_path = ''
as $$
declare
  v_old public.jobs;
  v_busy integer;
  v_children jsonb;
begin
  select * into v_old from public.jobs j
  where j.id = p_parent and j.user_id = p_user and j.deleted_at is null
  for update;
  if v_old.id is null or v_old.kind not in ('batch', 'story') then
    raise exception using errcode = 'VQ404', message = 'no such batch or story';
  end if;
  if v_old.status not in ('failed', 'canceled') then
    raise exception using errcode = 'VQ409', hint = 'client_message',
      message = format('Only a failed or canceled %s can be retried; this one is %s.',
        v_old.kind, v_old.status);
  end if;
  select count(*) into v_busy from vidqueue.current_children(p_parent) c
  where c.status not in ('completed', 'failed', 'canceled');
  if v_busy > 0 then
    raise exception using errcode = 'VQ409', hint = 'client_message',
      message = format('%s of its jobs are still finishing; retry once they are done.', v_busy);
  end if;
  select jsonb_agg(case
      when c.status = 'completed' then jsonb_build_object('reuse_of', c.id)
      else jsonb_build_object('kind', c.kind, 'model', c.model,
        'input', case when c.kind = 'compose' then '{}'::jsonb else c.input end,
        'cost', c.cost, 'item', c.item, 'retry_of', c.id)
    end order by c.item nulls last, c.kind)
    into v_children
  from vidqueue.current_children(p_parent) c;
  return vidqueue.parent_create_tx(p_user, v_old.kind, v_old.input, v_children, p_priority,
    'retry:' || p_parent::text, 'retry:' || p_parent::text, p_limits, p_parent);
end
$$;

create function vidqueue.parent_retry(
  p_user uuid, p_parent uuid, p_priority integer, p_limits jsonb default '{}'::jsonb
)
returns table (job public.jobs, replayed boolean)
language sql
set search_path = ''
as $$
  select r.job, r.replayed from vidqueue.parent_retry_tx(p_user, p_parent, p_priority, p_limits) r
$$;

revoke all on function
  vidqueue.parent_create_tx(uuid, text, jsonb, jsonb, integer, text, text, jsonb, uuid, integer),
  vidqueue.parent_create(uuid, text, jsonb, jsonb, integer, text, text, jsonb, uuid, integer),
  vidqueue.parent_retry_tx(uuid, uuid, integer, jsonb),
  vidqueue.parent_retry(uuid, uuid, integer, jsonb)
from public, anon, authenticated, service_role;
