-- Buckets and storage policies: `videos` is private and read-only for the owner's folder;
-- `inputs` is private, images only, 10 MB, and users write only their own folder.
begin;
select plan(20);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');

select results_eq(
  $$ select id, public, file_size_limit, allowed_mime_types from storage.buckets
     where id in ('videos', 'inputs') order by id $$,
  $$ values ('inputs'::text, false, 10485760::bigint,
       array['image/png', 'image/jpeg', 'image/webp', 'image/gif']::text[]),
     ('videos'::text, false, null::bigint, null::text[]) $$,
  'videos and inputs are private; inputs takes images up to 10 MB');

-- What the service stored.
insert into storage.objects (bucket_id, name, owner) values
  ('videos', 'a0000000-0000-4000-8000-000000000001/job-1.mp4', null),
  ('videos', 'b0000000-0000-4000-8000-000000000002/job-2.mp4', null),
  ('inputs', 'a0000000-0000-4000-8000-000000000001/start.png', 'a0000000-0000-4000-8000-000000000001');

create function pg_temp.as_user(p_claims jsonb, p_sql text) returns text language plpgsql as $$
declare
  v_rows int;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  -- What the Storage API sets for its own queries (hosted refuses DELETEs without it).
  perform set_config('storage.allow_delete_query', 'true', true);
  execute format('set local role %I', p_claims ->> 'role');
  execute p_sql;
  get diagnostics v_rows = row_count;
  reset role;
  return v_rows::text;
exception when others then
  reset role;
  return sqlstate;
end
$$;
create function pg_temp.count_as(p_claims jsonb, p_query text) returns int language plpgsql as $$
declare
  v int;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute format('set local role %I', p_claims ->> 'role');
  execute format('select count(*)::int from (%s) q', p_query) into v;
  reset role;
  return v;
end
$$;

\set owner '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'
\set stranger '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}'
\set anon '{"role":"anon"}'

select is(pg_temp.count_as(:'owner', $$ select * from storage.objects where bucket_id = 'videos' $$),
  1, 'the owner reads their own video only');
select is(pg_temp.count_as(:'owner', $$ select * from storage.objects where bucket_id = 'videos'
  and name like 'b0000000%' $$), 0, 'not the stranger''s video');
select is(pg_temp.count_as(:'stranger', $$ select * from storage.objects
  where name like 'a0000000%' $$), 0, 'the stranger reads none of the owner''s objects');
select is(pg_temp.count_as(:'anon', $$ select * from storage.objects $$), 0,
  'anon reads no objects');
select is(pg_temp.count_as(:'owner', $$ select * from storage.objects where bucket_id = 'inputs' $$),
  1, 'the owner reads their own inputs');

-- videos: read-only for users.
select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('videos', 'a0000000-0000-4000-8000-000000000001/fake.mp4',
    'a0000000-0000-4000-8000-000000000001') $$), '42501',
  'a user cannot upload into videos, not even their own folder');
select is(pg_temp.as_user(:'owner', $$ update storage.objects set name = name || '.x'
  where bucket_id = 'videos' $$), '0', 'a user cannot rename their videos');
select is(pg_temp.as_user(:'owner', $$ delete from storage.objects where bucket_id = 'videos' $$),
  '0', 'a user cannot delete their videos directly');

-- inputs: own folder only.
select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'a0000000-0000-4000-8000-000000000001/cat.jpg',
    'a0000000-0000-4000-8000-000000000001') $$), '1',
  'the owner uploads into their own inputs folder');
select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'b0000000-0000-4000-8000-000000000002/evil.jpg',
    'a0000000-0000-4000-8000-000000000001') $$), '42501',
  'not into someone else''s folder');
select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'loose.jpg', 'a0000000-0000-4000-8000-000000000001') $$), '42501',
  'not outside any folder');
select is(pg_temp.as_user(:'anon', $$ insert into storage.objects (bucket_id, name)
  values ('inputs', 'anon/x.jpg') $$), '42501', 'anon uploads nothing');
select is(pg_temp.as_user(:'owner', $$ update storage.objects set metadata = '{"v":2}'
  where bucket_id = 'inputs' $$), '2', 'the owner replaces their inputs');
select is(pg_temp.as_user(:'owner', $$ update storage.objects
  set name = 'b0000000-0000-4000-8000-000000000002/moved.jpg'
  where name = 'a0000000-0000-4000-8000-000000000001/cat.jpg' $$), '42501',
  'but cannot move one into another folder');
select is(pg_temp.as_user(:'stranger', $$ delete from storage.objects where bucket_id = 'inputs' $$),
  '0', 'a stranger deletes none of the owner''s inputs');
select is(pg_temp.as_user(:'stranger', $$ update storage.objects set metadata = '{}'
  where bucket_id = 'inputs' $$), '0', 'nor changes them');
select is(pg_temp.as_user(:'owner', $$ delete from storage.objects
  where name = 'a0000000-0000-4000-8000-000000000001/cat.jpg' $$), '1',
  'the owner deletes their own input');
select is(pg_temp.as_user(:'stranger', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'b0000000-0000-4000-8000-000000000002/mine.png',
    'b0000000-0000-4000-8000-000000000002') $$), '1',
  'the stranger uploads into their own folder');
select is((select count(*)::int from storage.objects where bucket_id = 'videos'), 2,
  'the videos are untouched');

select * from finish();
rollback;
