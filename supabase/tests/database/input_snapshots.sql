-- Start-image snapshots (`inputs/<uid>/.snapshots/…`) are read-only for users: no upload, upsert,
-- move into or out of, or delete, while the rest of the own folder stays theirs to write.
begin;
select plan(9);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
-- What the service stored: an upload and its snapshot.
insert into storage.objects (bucket_id, name, owner) values
  ('inputs', 'a0000000-0000-4000-8000-000000000001/start.png',
    'a0000000-0000-4000-8000-000000000001'),
  ('inputs', 'a0000000-0000-4000-8000-000000000001/.snapshots/s1/start.png', null);

create function pg_temp.as_user(p_claims jsonb, p_sql text) returns text language plpgsql as $$
declare
  v_rows int;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  -- As the Storage API does: its deletes pass Storage's guard, and RLS decides.
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

\set owner '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'

select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'a0000000-0000-4000-8000-000000000001/.snapshots/s2/evil.png',
    'a0000000-0000-4000-8000-000000000001') $$), '42501',
  'a user cannot upload into their snapshots folder');
select is(pg_temp.as_user(:'owner', $$ update storage.objects set metadata = '{"v":2}'
  where name like 'a0000000-0000-4000-8000-000000000001/.snapshots/%' $$), '0',
  'nor replace a snapshot');
select is(pg_temp.as_user(:'owner', $$ update storage.objects
  set name = 'a0000000-0000-4000-8000-000000000001/.snapshots/s1/start.png'
  where name = 'a0000000-0000-4000-8000-000000000001/start.png' $$), '42501',
  'nor move an upload onto a snapshot');
select is(pg_temp.as_user(:'owner', $$ update storage.objects
  set name = 'a0000000-0000-4000-8000-000000000001/kept.png'
  where name = 'a0000000-0000-4000-8000-000000000001/.snapshots/s1/start.png' $$), '0',
  'nor move a snapshot away');
select is(pg_temp.as_user(:'owner', $$ delete from storage.objects
  where name like 'a0000000-0000-4000-8000-000000000001/.snapshots/%' $$), '0',
  'nor delete one');
select is(pg_temp.as_user(:'owner', $$ select 1 from storage.objects
  where name like 'a0000000-0000-4000-8000-000000000001/.snapshots/%' $$), '1',
  'but the owner may read their snapshots');
select is(pg_temp.as_user(:'owner', $$ insert into storage.objects (bucket_id, name, owner)
  values ('inputs', 'a0000000-0000-4000-8000-000000000001/snapshots/.snapshots.png',
    'a0000000-0000-4000-8000-000000000001') $$), '1',
  'names that only look alike stay writable');
select is(pg_temp.as_user(:'owner', $$ update storage.objects set metadata = '{"v":3}'
  where name = 'a0000000-0000-4000-8000-000000000001/start.png' $$), '1',
  'the owner still replaces their uploads');
select is((select count(*)::int from storage.objects
  where name like 'a0000000-0000-4000-8000-000000000001/.snapshots/%'), 1,
  'the snapshot is untouched');

select * from finish();
rollback;
