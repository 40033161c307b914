-- A story runs in stages decided in SQL: its scene images can run at once; a scene's narration
-- waits until the scene's image is completed; the compose job waits for every scene and gets a
-- timeline where each scene lasts as long as its narration. The story completes with the compose
-- job's video; its progress is weighted by the children's expected seconds.
begin;
select plan(18);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-image', 'fal-ai/test/image', 'image', 'Test image', 5),
  ('t-tts', 'fal-ai/test/tts', 'audio', 'Test TTS', 10),
  ('t-compose', 'fal-ai/ffmpeg-api/compose', 'compose', 'Test compose', 30);

create function pg_temp.story(p_scenes int) returns jsonb language sql as $$
  select jsonb_agg(c order by o)
  from (
    select jsonb_build_object('kind', 'image', 'model', 't-image', 'cost', 1, 'item', i,
      'input', jsonb_build_object('prompt', 'picture ' || i)) c, i * 2 o
    from generate_series(1, p_scenes) i
    union all
    select jsonb_build_object('kind', 'audio', 'model', 't-tts', 'cost', 1, 'item', i,
      'input', jsonb_build_object('prompt', 'words ' || i)), i * 2 + 1
    from generate_series(1, p_scenes) i
    union all
    select jsonb_build_object('kind', 'compose', 'model', 't-compose', 'cost', 2), 1000
  ) s
$$;
-- Runs a claimed child to completion at fal and in Storage.
create function pg_temp.run(p_job uuid, p_media jsonb default null) returns void
language plpgsql as $$
begin
  perform vidqueue.job_submitted(p_job, 'req-' || p_job::text);
  perform vidqueue.job_finalizing(p_job, '{"images":[{"url":"https://fal.media/x.png"}]}');
  if p_media is not null then
    perform vidqueue.job_media(p_job, p_media);
  end if;
  perform vidqueue.job_completed(p_job,
    'a0000000-0000-4000-8000-000000000001/' || p_job::text || '.bin');
end
$$;
create function pg_temp.claimed() returns text language sql as $$
  select coalesce(string_agg(c.kind || coalesce(c.item::text, ''), ',' order by c.kind, c.item), '')
  from vidqueue.job_claim(50, null, 50) c
$$;
create function pg_temp.child(p_story uuid, p_kind text, p_item int) returns uuid
language sql as $$
  select id from public.jobs where parent_id = p_story and kind = p_kind
    and item is not distinct from p_item
$$;

select throws_ok(
  $$ select * from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'story', '{}',
       pg_temp.story(2) - 3, 0, null, null) $$,
  'VQ400', null, 'a story missing a narration is refused');

select (c.job).id as story from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001',
  'story', '{"prompt":"two scenes"}', pg_temp.story(2), 0, null, null) c \gset

select results_eq(
  format($$ select kind, count(*)::int, count(*) filter (where next_attempt_at = 'infinity')::int
            from public.jobs where parent_id = %L group by kind order by kind $$, :'story'),
  $$ values ('audio'::text, 2, 2), ('compose', 1, 1), ('image', 2, 0) $$,
  'images can run; narrations and the compose job wait');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (94, 6) $$, 'the whole story was reserved up front');
select is(
  (select vidqueue.job_public(j) -> 'queue_position' from public.jobs j
   where j.id = pg_temp.child(:'story', 'audio', 1)), 'null'::jsonb,
  'a waiting child has no queue position');
select is(pg_temp.claimed(), 'image1,image2', 'only the images are claimed');

select pg_temp.run(pg_temp.child(:'story', 'image', 2));
select results_eq(
  format($$ select item, next_attempt_at is null from public.jobs
            where parent_id = %L and kind = 'audio' order by item $$, :'story'),
  $$ values (1, false), (2, true) $$,
  'scene 2''s image completed: only its narration is released');
select is(
  (select count(*)::int from public.job_events
   where job_id = pg_temp.child(:'story', 'audio', 2) and kind = 'released'), 1,
  'the release is an event');
select is(pg_temp.claimed(), 'audio2', 'the released narration is claimed');
select results_eq(
  format($$ select status, result -> 'stage', (vidqueue.job_public(j) ->> 'progress')::int
            from public.jobs j where id = %L $$, :'story'),
  $$ values ('in_progress'::text, '"images"'::jsonb, 8) $$,
  'the story is at its image stage, 5 of 2*5+2*10+30 = 60 weighted seconds done');

select pg_temp.run(pg_temp.child(:'story', 'image', 1));
select pg_temp.run(pg_temp.child(:'story', 'audio', 2), '{"duration_ms": 2500}');
select is(pg_temp.claimed(), 'audio1', 'scene 1''s narration follows its image');
select is((select next_attempt_at from public.jobs
  where id = pg_temp.child(:'story', 'compose', null)), 'infinity'::timestamptz,
  'the compose job waits while a narration is missing');
select pg_temp.run(pg_temp.child(:'story', 'audio', 1), '{"duration_ms": 4000}');

select is(
  (select input from public.jobs where id = pg_temp.child(:'story', 'compose', null)),
  jsonb_build_object('tracks', jsonb_build_array(
    jsonb_build_object('id', 'scenes', 'type', 'video', 'keyframes', jsonb_build_array(
      jsonb_build_object('url', 'storage://videos/a0000000-0000-4000-8000-000000000001/'
        || pg_temp.child(:'story', 'image', 1) || '.bin', 'timestamp', 0, 'duration', 4000),
      jsonb_build_object('url', 'storage://videos/a0000000-0000-4000-8000-000000000001/'
        || pg_temp.child(:'story', 'image', 2) || '.bin', 'timestamp', 4000, 'duration', 2500))),
    jsonb_build_object('id', 'narration', 'type', 'audio', 'keyframes', jsonb_build_array(
      jsonb_build_object('url', 'storage://videos/a0000000-0000-4000-8000-000000000001/'
        || pg_temp.child(:'story', 'audio', 1) || '.bin', 'timestamp', 0, 'duration', 4000),
      jsonb_build_object('url', 'storage://videos/a0000000-0000-4000-8000-000000000001/'
        || pg_temp.child(:'story', 'audio', 2) || '.bin', 'timestamp', 4000, 'duration', 2500))))),
  'the compose timeline lays the scenes back to back, each as long as its narration');
select is(pg_temp.claimed(), 'compose', 'every scene complete: the compose job is released');
select results_eq(
  format($$ select result -> 'stage', (vidqueue.job_public(j) ->> 'progress')::int
            from public.jobs j where id = %L $$, :'story'),
  $$ values ('"compose"'::jsonb, 50) $$, 'at the compose stage, 30 of 60 weighted seconds done');

select pg_temp.run(pg_temp.child(:'story', 'compose', null));
select results_eq(
  format($$ select status, storage_path, completed_at is not null, result -> 'stage',
              (vidqueue.job_public(j) ->> 'progress')::int
            from public.jobs j where id = %L $$, :'story'),
  format($$ values ('completed'::text, %L::text, true, '"done"'::jsonb, 100) $$,
    'a0000000-0000-4000-8000-000000000001/' || pg_temp.child(:'story', 'compose', null) || '.bin'),
  'the story completes with the compose job''s video');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (94, 0) $$, 'every child was charged once');
select throws_ok(
  format($$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'image',
       't-image', '{"prompt":"extra"}', 1, 0, null, null, '{}', %L) $$, :'story'),
  'VQ409', 'The scenes of a story are not retried one by one: retry the story.',
  'no child is added to a story from outside');
select is(
  (select count(*)::int from public.job_events where job_id = :'story'
   and kind in ('started', 'completed')), 2,
  'the story''s own transitions are events');

select * from finish();
rollback;
