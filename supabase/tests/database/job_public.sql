-- job_public is the client contract's job object: exactly the public keys, an error object only
-- when there is an error, progress estimated and queue_position computed at read time.
begin;
select plan(16);

insert into public.settings (key, value) values ('free_credits_user', '1000')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100);

create function pg_temp.new_job(p_user uuid, p_priority int default 0) returns uuid
language sql as $$
  select (c.job).id from vidqueue.job_create(p_user, 'video', 't-video',
    '{"prompt":"a fox","seed":7}', 10, p_priority, null, null) c
$$;
create function pg_temp.pub(p_id uuid) returns jsonb language sql as $$
  select vidqueue.job_public(j) from public.jobs j where j.id = p_id
$$;

select pg_temp.new_job('b0000000-0000-4000-8000-000000000002') as other_old \gset
update public.jobs set created_at = now() - interval '5 minutes' where id = :'other_old';
select pg_temp.new_job('a0000000-0000-4000-8000-000000000001') as job \gset

select is(
  (select array_agg(k order by k) from jsonb_object_keys(pg_temp.pub(:'job')) k),
  array['cancel_requested_at', 'completed_at', 'created_at', 'credits_cost', 'deleted_at',
    'error', 'expected_seconds', 'id', 'kind', 'model', 'parent_id', 'progress', 'prompt',
    'queue_position', 'queue_reason', 'retry_of', 'started_at', 'status', 'submitted_at',
    'updated_at',
    'version', 'video_url'],
  'the job object has exactly the public keys');
select results_eq(
  format($$ select p ->> 'id', p ->> 'kind', p ->> 'status', (p ->> 'progress')::int,
       p ->> 'model', p ->> 'prompt', (p ->> 'credits_cost')::int, (p ->> 'version')::int,
       (p ->> 'expected_seconds')::int, p -> 'error', p -> 'video_url'
     from pg_temp.pub(%L) p $$, :'job'),
  format($$ values (%L, 'video', 'queued', 0, 't-video', 'a fox', 10, 1, 100, 'null'::jsonb,
       'null'::jsonb) $$, :'job'),
  'a queued job''s fields');
select is((pg_temp.pub(:'job') ->> 'queue_position')::int, 2,
  'queue position counts everyone''s jobs ahead (an older job of another user)');
select pg_temp.new_job('b0000000-0000-4000-8000-000000000002', 5) as urgent \gset
select is((pg_temp.pub(:'job') ->> 'queue_position')::int, 3, 'and higher priorities');
select is((pg_temp.pub(:'urgent') ->> 'queue_position')::int, 1, 'the top job is at position 1');
select pg_temp.new_job('a0000000-0000-4000-8000-000000000001') as later \gset
update public.jobs set created_at = now() + interval '1 second' where id = :'later';
select is((pg_temp.pub(:'job') ->> 'queue_position')::int, 3, 'younger jobs are not ahead');

select vidqueue.job_claim(10, 10, 1);
select is((pg_temp.pub(:'urgent') ->> 'queue_position')::int, 0,
  'a job being submitted is at position 0');
select is((pg_temp.pub(:'job') ->> 'queue_position')::int, 2,
  'jobs being submitted are not ahead any more');
select vidqueue.job_submitted(:'urgent', 'req-u');
select results_eq(
  format($$ select p ->> 'status', (p ->> 'progress')::int, p -> 'queue_position',
       p ->> 'submitted_at' is not null from pg_temp.pub(%L) p $$, :'urgent'),
  $$ values ('submitted'::text, 5, 'null'::jsonb, true) $$,
  'a submitted job: progress 5, no queue position');

select vidqueue.job_started(:'urgent');
update public.jobs set started_at = now() - interval '50 seconds', expected_seconds = 100
where id = :'urgent';
select is((pg_temp.pub(:'urgent') ->> 'progress')::int, 50,
  'in progress: 10 + 80 x elapsed / expected');
update public.jobs set started_at = now() - interval '1 hour' where id = :'urgent';
select is((pg_temp.pub(:'urgent') ->> 'progress')::int, 90,
  'an overdue job stays at 90 until fal answers');
select vidqueue.job_finalizing(:'urgent', '{"video":{"url":"https://fal.media/v.mp4"}}');
select is((pg_temp.pub(:'urgent') ->> 'progress')::int, 95, 'finalizing: 95');
select vidqueue.job_completed(:'urgent', 'b/urgent.mp4');
select results_eq(
  format($$ select (p ->> 'progress')::int, p ->> 'completed_at' is not null, p -> 'video_url'
     from pg_temp.pub(%L) p $$, :'urgent'),
  $$ values (100, true, 'null'::jsonb) $$,
  'completed: 100, completed_at, still no URL (the API signs one)');

select vidqueue.job_failed(:'job', 'invalid_input', 'prompt rejected');
select is(pg_temp.pub(:'job') -> 'error',
  '{"code":"invalid_input","message":"prompt rejected"}'::jsonb,
  'a failed job has an error object');
select is((pg_temp.pub(:'job') ->> 'progress')::int, 0, 'and progress 0');

-- A read as the functions make it for a user: vidqueue_reader with the user's claims. The first
-- column of the first row as text, or 'error <SQLSTATE>'.
create function pg_temp.read_as(p_sub text, p_query text) returns text language plpgsql as $$
declare
  v text;
begin
  perform set_config('request.jwt.claims',
    jsonb_build_object('sub', p_sub, 'role', 'authenticated')::text, true);
  set local role vidqueue_reader;
  execute p_query into v;
  reset role;
  return v;
exception when others then
  reset role;
  return 'error ' || sqlstate;
end
$$;
select is(pg_temp.read_as('a0000000-0000-4000-8000-000000000001', format(
  'select vidqueue.job_public(j) ->> ''queue_position'' from public.jobs j where j.id = %L',
  :'later')), '2',
  'as the user, the queue position still counts the other user''s job that RLS hides');

select * from finish();
rollback;
