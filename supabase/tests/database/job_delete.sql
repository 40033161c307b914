-- Delete: only the owner's terminal jobs; the job is hidden from the user's reads, the ledger is
-- untouched, and the change is broadcast.
begin;
select plan(9);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

select (c.job).id as done from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset
select (c.job).id as waiting from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"y"}', 10, 0, null, null) c \gset
update public.jobs set created_at = now() - interval '1 minute' where id = :'done';
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'done', 'req-done');
select vidqueue.job_finalizing(:'done', '{}');
select vidqueue.job_completed(:'done', 'a0000000-0000-4000-8000-000000000001/done.mp4');

create temp table ledger_before as
  select * from public.credit_ledger where user_id = 'a0000000-0000-4000-8000-000000000001';

select is((vidqueue.job_delete(:'waiting', 'a0000000-0000-4000-8000-000000000001')).id, null,
  'a job that is not terminal cannot be deleted');
select is((vidqueue.job_delete(:'done', 'b0000000-0000-4000-8000-000000000002')).id, null,
  'a stranger cannot delete the job');
select results_eq(
  format($$ select (j).status, (j).deleted_at is not null, (j).version
            from vidqueue.job_delete(%L, 'a0000000-0000-4000-8000-000000000001') j $$, :'done'),
  $$ values ('completed'::text, true, 6) $$,
  'the owner deletes a completed job: it keeps its status, deleted_at is set');
select results_eq(
  $$ select * from public.credit_ledger where user_id = 'a0000000-0000-4000-8000-000000000001'
     order by id $$,
  $$ select * from ledger_before order by id $$,
  'the ledger is untouched');
select is((select count(*)::int from public.job_events where job_id = :'done' and kind = 'deleted'),
  1, 'the delete is an event');
select is(
  (select payload -> 'job' ->> 'deleted_at' is not null from realtime.messages
   where topic = 'jobs:a0000000-0000-4000-8000-000000000001'
     and (payload -> 'job' ->> 'id')::uuid = :'done'::uuid
   order by (payload -> 'job' ->> 'version')::int desc limit 1),
  true, 'the delete is broadcast so clients drop the job');

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
select is(pg_temp.read_as('a0000000-0000-4000-8000-000000000001',
  format('select count(*) from public.jobs where id = %L', :'done')), '0',
  'the owner no longer reads the deleted job');
select is(pg_temp.read_as('a0000000-0000-4000-8000-000000000001',
  format('select count(*) from public.jobs where id = %L', :'waiting')), '1',
  'but still reads the others');

select is((select count(*)::int from public.jobs where id = :'done'), 1,
  'the row is kept for the service');

select * from finish();
rollback;
