-- vidqueue.job_media_to_remove: after a delete, only the objects no live job of the user refers
-- to: a story and its compose job share a video, a compose job refers to its scenes, two jobs
-- share a start-image snapshot; a user's own uploads are never listed.
begin;
select plan(9);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video'),
  ('t-image', 'fal-ai/test/image', 'image', 'Test image'),
  ('t-compose', 'fal-ai/test/compose', 'compose', 'Test compose');

-- A finished job as the state machine leaves it (children written as parent_create does, so the
-- parent is not synced per child; parents are finished with pg_temp.finish below).
create function pg_temp.job(p_user uuid, p_kind text, p_status text, p_path text,
  p_input jsonb default '{}', p_parent uuid default null) returns uuid language plpgsql as $$
declare
  v_id uuid;
begin
  perform set_config('vidqueue.sync_parent', coalesce(p_parent::text, ''), true);
  insert into public.jobs (user_id, parent_id, kind, model, input, status, storage_path,
    finished_at, completed_at)
  values (p_user, p_parent, p_kind,
    case p_kind when 'video' then 't-video' when 'image' then 't-image'
      when 'compose' then 't-compose' end,
    p_input, p_status, p_path, case when p_status <> 'queued' then now() end,
    case when p_status = 'completed' then now() end)
  returning id into v_id;
  perform set_config('vidqueue.sync_parent', '', true);
  return v_id;
end
$$;
-- Finishes a parent without a version bump (no sync).
create function pg_temp.finish(p_job uuid, p_status text) returns void language sql as $$
  update public.jobs set status = p_status, finished_at = now(),
    completed_at = case when p_status = 'completed' then now() end
  where id = p_job
$$;
create function pg_temp.delete(p_job uuid) returns text language sql as $$
  select vidqueue.job_delete(p_job, 'a0000000-0000-4000-8000-000000000001');
  select coalesce(string_agg(m.bucket_id || ':' || m.name, ' ' order by m.bucket_id, m.name), '')
  from vidqueue.job_media_to_remove(p_job, 'a0000000-0000-4000-8000-000000000001') m
$$;

\set a 'a0000000-0000-4000-8000-000000000001'
select pg_temp.job(:'a', 'story', 'queued', :'a' || '/c.mp4') as story \gset
select pg_temp.job(:'a', 'image', 'completed', :'a' || '/i.png', '{}', :'story') as image \gset
select pg_temp.job(:'a', 'compose', 'completed', :'a' || '/c.mp4',
  jsonb_build_object('tracks', jsonb_build_array(jsonb_build_object('keyframes',
    jsonb_build_array(jsonb_build_object('url', 'storage://videos/' || :'a' || '/i.png'))))),
  :'story') as compose \gset
select pg_temp.finish(:'story', 'completed');

select is(pg_temp.delete(:'compose'), '', 'deleting a story''s compose job keeps the story''s video');
select is(pg_temp.delete(:'image'), '', 'deleting a scene keeps it while its story lives');
select is(pg_temp.delete(:'story'),
  format('videos:%s/c.mp4 videos:%s/i.png', :'a', :'a'),
  'deleting the story frees its video and its scenes');

\set snap '''storage://inputs/a0000000-0000-4000-8000-000000000001/.snapshots/s1/x.png'''
select pg_temp.job(:'a', 'video', 'completed', :'a' || '/v1.mp4',
  jsonb_build_object('image_url', :snap)) as v1 \gset
select pg_temp.job(:'a', 'video', 'failed', null, jsonb_build_object('image_url', :snap)) as v2 \gset
select pg_temp.job('b0000000-0000-4000-8000-000000000002', 'video', 'completed',
  :'a' || '/v1.mp4', jsonb_build_object('image_url', :snap)) as theirs \gset
select is(pg_temp.delete(:'v1'), format('videos:%s/v1.mp4', :'a'),
  'a video goes; the snapshot another job uses stays (another user''s rows count for nothing)');
select is(pg_temp.delete(:'v2'), format('inputs:%s/.snapshots/s1/x.png', :'a'),
  'the last job using the snapshot takes it');

select pg_temp.job(:'a', 'video', 'completed', :'a' || '/v3.mp4',
  jsonb_build_object('image_url', 'storage://inputs/' || :'a' || '/own.png',
    'extra', 'storage://inputs/templates/t.png')) as v3 \gset
select is(pg_temp.delete(:'v3'), format('videos:%s/v3.mp4', :'a'),
  'the user''s own upload and template images are never listed');

select pg_temp.job(:'a', 'batch', 'queued', null) as b1 \gset
select pg_temp.job(:'a', 'video', 'completed', :'a' || '/item.mp4', '{}', :'b1') as item \gset
select pg_temp.job(:'a', 'batch', 'queued', null) as b2 \gset
select pg_temp.job(:'a', 'video', 'completed', :'a' || '/item.mp4', '{}', :'b2') as reused \gset
select pg_temp.finish(:'b1', 'failed'), pg_temp.finish(:'b2', 'completed');
select is(pg_temp.delete(:'item'), '', 'a retried batch''s item keeps the video the retry took over');
select is(pg_temp.delete(:'b1'), '', 'so does deleting the old batch');
select is(pg_temp.delete(:'b2'), format('videos:%s/item.mp4', :'a'),
  'the last batch using it takes it');

select * from finish();
rollback;
