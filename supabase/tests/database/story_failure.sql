-- When a scene of a story fails for good the story fails cleanly: nothing new starts, the queued
-- and waiting children are canceled with their credits released, children already at fal finish
-- (charged, results kept), and the story ends `failed` naming the scene. A retry of the story
-- reuses every completed scene job and reserves only what is redone.
begin;
select plan(16);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-image', 'fal-ai/test/image', 'image', 'Test image', 5),
  ('t-tts', 'fal-ai/test/tts', 'audio', 'Test TTS', 10),
  ('t-compose', 'fal-ai/ffmpeg-api/compose', 'compose', 'Test compose', 30);

create function pg_temp.story(p_scenes int) returns jsonb language sql as $$
  select jsonb_agg(c)
  from (
    select jsonb_build_object('kind', 'image', 'model', 't-image', 'cost', 1, 'item', i,
      'input', jsonb_build_object('prompt', 'picture ' || i)) c
    from generate_series(1, p_scenes) i
    union all
    select jsonb_build_object('kind', 'audio', 'model', 't-tts', 'cost', 1, 'item', i,
      'input', jsonb_build_object('prompt', 'words ' || i))
    from generate_series(1, p_scenes) i
    union all
    select jsonb_build_object('kind', 'compose', 'model', 't-compose', 'cost', 2)
  ) s
$$;
create function pg_temp.child(p_story uuid, p_kind text, p_item int) returns uuid
language sql as $$
  select id from public.jobs where parent_id = p_story and kind = p_kind
    and item is not distinct from p_item
$$;
create function pg_temp.complete(p_job uuid) returns void language plpgsql as $$
begin
  perform vidqueue.job_finalizing(p_job, '{"images":[{"url":"https://fal.media/x.png"}]}');
  perform vidqueue.job_completed(p_job, 'a0000000-0000-4000-8000-000000000001/' || p_job || '.png');
end
$$;

select (c.job).id as story from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001',
  'story', '{"prompt":"three scenes"}', pg_temp.story(3), 0, null, null) c \gset
select count(*) from vidqueue.job_claim(50, null, 50);
select pg_temp.child(:'story', 'image', 1) as i1, pg_temp.child(:'story', 'image', 2) as i2,
  pg_temp.child(:'story', 'image', 3) as i3, pg_temp.child(:'story', 'audio', 1) as a1 \gset
select vidqueue.job_submitted(:'i1', 'req-i1');
select pg_temp.complete(:'i1');
select count(*) from vidqueue.job_claim(50, null, 50);
select vidqueue.job_submitted(:'i2', 'req-i2');
select vidqueue.job_submitted(:'a1', 'req-a1');
-- i3 stays claimed (being submitted); then scene 1's narration fails for good.
select vidqueue.job_provider_failed(:'a1', 'provider_error', 'tts is down');

select results_eq(
  format($$ select status, error_code, error_message, result -> 'stage' from public.jobs
            where id = %L $$, :'story'),
  $$ values ('in_progress'::text, 'scene_failed'::text,
    'Scene 1 (narration) failed: tts is down'::text, '"failing"'::jsonb) $$,
  'the story reports the failed scene at once and is finishing');
select results_eq(
  format($$ select kind, item, status from public.jobs where parent_id = %L
            and status = 'canceled' order by kind, item $$, :'story'),
  $$ values ('audio'::text, 2, 'canceled'::text), ('audio', 3, 'canceled'),
    ('compose', null, 'canceled') $$,
  'the waiting narrations and the compose job are canceled');
select is((select status from public.jobs where id = :'i2'), 'submitted',
  'a scene image already at fal runs on');
select isnt((select cancel_requested_at from public.jobs where id = :'i3'), null,
  'a scene image being submitted gets a cancel request');
select throws_ok(
  format($$ select * from vidqueue.parent_retry('a0000000-0000-4000-8000-000000000001', %L, 0) $$,
    :'story'),
  'VQ409', 'Only a failed or canceled story can be retried; this one is in_progress.',
  'a story still finishing cannot be retried');

select pg_temp.complete(:'i2');
select vidqueue.job_submitted(:'i3', 'req-i3');
select vidqueue.job_provider_failed(:'i3', 'client_cancelled', 'canceled at fal');
select results_eq(
  format($$ select status, error_code, finished_at is not null from public.jobs where id = %L $$,
    :'story'),
  $$ values ('failed'::text, 'scene_failed'::text, true) $$,
  'once nothing runs any more the story is failed');
select results_eq(
  format($$ select l.kind, count(*)::int, sum(l.amount)::int from public.credit_ledger l
            join public.jobs j on j.id = l.job_id where j.parent_id = %L
            group by l.kind order by l.kind $$, :'story'),
  $$ values ('capture'::text, 2, 2), ('release', 5, 6), ('reserve', 7, 8) $$,
  'the two completed images are charged, every other reservation is released');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (98, 0) $$, 'nothing stays reserved');

select (c.job).id as retry, c.replayed from vidqueue.parent_retry(
  'a0000000-0000-4000-8000-000000000001', :'story', 0) c \gset
select results_eq(
  format($$ select kind, status, retry_of from public.jobs where id = %L $$, :'retry'),
  format($$ values ('story'::text, 'in_progress'::text, %L::uuid) $$, :'story'),
  'the retry is a new story that starts with its finished scenes');
select results_eq(
  format($$ select kind, item, status, cost, retry_of, storage_path is not null from public.jobs
            where parent_id = %L and kind = 'image' order by item $$, :'retry'),
  format($$ values ('image'::text, 1, 'completed'::text, 0, %L::uuid, true),
    ('image', 2, 'completed', 0, %L::uuid, true), ('image', 3, 'queued', 1, %L::uuid, false) $$,
    :'i1', :'i2', :'i3'),
  'completed images are reused for free; the canceled one is made again');
select is(
  (select count(*)::int from public.job_events e join public.jobs j on j.id = e.job_id
   where j.parent_id = :'retry' and e.kind = 'reused'), 2, 'reuses are events');
select results_eq(
  format($$ select item, next_attempt_at is null from public.jobs
            where parent_id = %L and kind = 'audio' order by item $$, :'retry'),
  $$ values (1, true), (2, true), (3, false) $$,
  'narrations of scenes whose image is reused are released at once');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (92, 6) $$, 'only the redone work is reserved (1 image, 3 narrations, compose)');
select is(
  (select (c.job).id from vidqueue.parent_retry('a0000000-0000-4000-8000-000000000001',
    :'story', 0) c), :'retry'::uuid,
  'retrying again returns the same retry');
select throws_ok(
  format($$ select * from vidqueue.parent_retry('b0000000-0000-4000-8000-000000000002', %L, 0) $$,
    :'story'),
  'VQ404', null, 'another user cannot retry it');
select throws_ok(
  format($$ select * from vidqueue.parent_retry('a0000000-0000-4000-8000-000000000001', %L, 0) $$,
    :'i1'),
  'VQ404', null, 'a plain job is not retried as a story');

select * from finish();
rollback;
