-- Every job change is broadcast to the owner's private topic `jobs:<uid>` as `job_updated`
-- with {job: job_public}, one message per version, carrying no input/result blobs or URLs.
begin;
select plan(12);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 60);

select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"a fox","secret_input":"do not leak"}', 10, 0, null, null) c \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'job', 'req-rt');
select vidqueue.job_started(:'job');
select vidqueue.job_finalizing(:'job', '{"video":{"url":"https://fal.media/secret.mp4"}}');
select vidqueue.job_completed(:'job', 'a0000000-0000-4000-8000-000000000001/x.mp4');
-- No-ops broadcast nothing.
select vidqueue.job_completed(:'job', 'again.mp4');
select vidqueue.job_started(:'job');

create temp view sent as
  select m.* from realtime.messages m
  where m.topic = 'jobs:a0000000-0000-4000-8000-000000000001'
    and (m.payload -> 'job' ->> 'id')::uuid = :'job'::uuid;

select results_eq(
  $$ select (payload -> 'job' ->> 'version')::int, payload -> 'job' ->> 'status' from sent
     order by inserted_at, (payload -> 'job' ->> 'version')::int $$,
  $$ values (1, 'queued'::text), (2, 'queued'), (3, 'submitted'), (4, 'in_progress'),
     (5, 'finalizing'), (6, 'completed') $$,
  'one message per version, creation included, no-ops excluded');
select is((select count(*)::int from sent where event = 'job_updated' and private
  and extension = 'broadcast'), 6, 'all are private job_updated broadcasts');
select is((select count(*)::int from realtime.messages
  where topic like 'jobs:%' and topic <> 'jobs:a0000000-0000-4000-8000-000000000001'), 0,
  'nothing goes to another topic');
select is((select count(*)::int from sent where payload ? 'id'), 6,
  'realtime.send adds a message id');
select is(
  (select payload -> 'job' from sent where payload -> 'job' ->> 'status' = 'completed'),
  vidqueue.job_public((select j from public.jobs j where j.id = :'job')),
  'the payload is job_public of the new row');
select is((select count(*)::int from sent where payload::text like '%do not leak%'), 0,
  'no input blob is sent');
select is((select count(*)::int from sent where payload::text like '%fal.media%'
  or payload::text like '%x.mp4%'), 0, 'no result blob, URL or storage path is sent');
select is((select count(*)::int from sent where payload -> 'job' -> 'video_url' <> 'null'::jsonb), 0,
  'video_url is always null in events');
select is((select payload -> 'job' ->> 'prompt' from sent limit 1), 'a fox',
  'the prompt is sent');
select is((select payload -> 'job' ->> 'queue_position' from sent
  where payload -> 'job' ->> 'version' = '1'), '1', 'a new job reports its queue position');
select is((select payload -> 'job' ->> 'queue_position' from sent
  where payload -> 'job' ->> 'version' = '2'), '0', 'a job being submitted is at position 0');

-- A rolled-back transition sends nothing.
savepoint before_fail;
select vidqueue.job_delete(:'job', 'a0000000-0000-4000-8000-000000000001');
rollback to savepoint before_fail;
select is((select count(*)::int from sent), 6, 'a rolled back change sends nothing');

select * from finish();
rollback;
