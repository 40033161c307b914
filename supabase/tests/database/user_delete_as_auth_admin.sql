-- Deleting a user as GoTrue does (`delete from auth.users` as supabase_auth_admin, which has no
-- rights in vidqueue): it succeeds for a user with queued, in-flight (at fal, holding a slot)
-- and completed jobs, a retried job, a batch, ledger rows and stored files, and for a user
-- without any job. Their jobs, events and account go; open reservations are released in the
-- ledger, which keeps every row; their slot is free; their files are listed for the Storage API;
-- fal's late answers about their jobs change nothing; other users are untouched.
begin;
select plan(21);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'leaving@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'idle@example.com'),
  ('c0000000-0000-4000-8000-000000000003', 'staying@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

\set leaving a0000000-0000-4000-8000-000000000001
select (c.job).id as at_fal from vidqueue.job_create(:'leaving',
  'video', 't-video', '{"prompt":"at fal"}', 10, 5, null, null) c \gset
select (c.job).id as done from vidqueue.job_create(:'leaving',
  'video', 't-video', '{"prompt":"done"}', 10, 5, null, null) c \gset
select (c.job).id as failed from vidqueue.job_create(:'leaving',
  'video', 't-video', '{"prompt":"failed"}', 10, 5, null, null) c \gset
select (c.job).id as retry from vidqueue.job_create(:'leaving',
  'video', 't-video', '{"prompt":"failed"}', 10, 0, null, null, '{}', null, :'failed') c \gset
select (c.job).id as batch from vidqueue.parent_create(:'leaving', 'batch', '{"prompt":"two"}', '[
    {"kind":"video","model":"t-video","input":{"prompt":"one"},"cost":10,"item":1},
    {"kind":"video","model":"t-video","input":{"prompt":"two"},"cost":10,"item":2}
  ]', 0, null, null) c \gset
select (c.job).id as other from vidqueue.job_create('c0000000-0000-4000-8000-000000000003',
  'video', 't-video', '{"prompt":"z"}', 10, 0, null, null) c \gset

-- at_fal is submitted and holds the only slot; done completed; failed failed (its retry queued).
update public.jobs set created_at = now() - interval '1 minute' where id = :'done';
select id from vidqueue.job_claim(1, null, 1);
select id from vidqueue.job_submitted(:'done', 'req-done');
select id from vidqueue.job_finalizing(:'done', '{"video":{"url":"https://fal.media/x.mp4"}}');
select id from vidqueue.job_completed(:'done', :'leaving' || '/done.mp4');
select id from vidqueue.job_failed(:'failed', 'invalid_input', 'no');
update public.jobs set created_at = now() - interval '30 seconds' where id = :'at_fal';
select id from vidqueue.job_claim(1, null, 1);
select id from vidqueue.job_submitted(:'at_fal', 'req-at-fal');
select id from vidqueue.job_started(:'at_fal');

insert into storage.objects (bucket_id, name) values
  ('videos', :'leaving' || '/done.mp4'),
  ('inputs', :'leaving' || '/start.png'),
  ('inputs', 'templates/start.png'),
  ('videos', 'c0000000-0000-4000-8000-000000000003/keep.mp4');
create temp table ledger_before as select * from public.credit_ledger where user_id = :'leaving';

select is((select job_id from vidqueue.slots where job_id is not null), :'at_fal'::uuid,
  'the leaving user''s job at fal holds the only slot');
select is(
  (select count(*)::int from ledger_before l where l.kind = 'reserve' and not exists (
     select 1 from ledger_before s where s.job_id = l.job_id and s.kind in ('capture', 'release'))),
  4, 'four of their reservations are open (at fal, the retry, two batch items)');

-- GoTrue's delete, as GoTrue's role: 'ok' or the SQLSTATE and message.
create function pg_temp.delete_as_auth_admin(p_user uuid) returns text language plpgsql as $$
begin
  set local role supabase_auth_admin;
  delete from auth.users where id = p_user;
  reset role;
  return 'ok';
exception when others then
  reset role;
  return sqlstate || ' ' || sqlerrm;
end
$$;

select is(pg_temp.delete_as_auth_admin(:'leaving'), 'ok',
  'supabase_auth_admin deletes a user with jobs in every state');
select is(pg_temp.delete_as_auth_admin('b0000000-0000-4000-8000-000000000002'), 'ok',
  'and a user without any job');

select is((select count(*)::int from auth.users where id in (:'leaving',
  'b0000000-0000-4000-8000-000000000002')), 0, 'both users are gone');
select is((select count(*)::int from public.jobs where user_id = :'leaving'), 0,
  'their jobs are gone, children and retries included');
select is((select count(*)::int from public.job_events where user_id = :'leaving'), 0,
  'their job events are gone');
select is((select count(*)::int from public.credit_accounts where user_id in (:'leaving',
  'b0000000-0000-4000-8000-000000000002')), 0, 'their credit accounts are gone');
select results_eq(
  $$ select l.* from public.credit_ledger l join ledger_before b using (id) order by l.id $$,
  $$ select * from ledger_before order by id $$,
  'the ledger keeps every row it had, with user and job ids');
select set_eq(
  format($$ select job_id, amount from public.credit_ledger
     where user_id = %L and kind = 'release' and reason = 'user deleted' $$, :'leaving'),
  format($$ select job_id, amount from ledger_before l where l.kind = 'reserve' and not exists (
     select 1 from ledger_before s where s.job_id = l.job_id and s.kind in ('capture', 'release')) $$),
  'every open reservation is released, once, as ''user deleted''');
select is_empty(
  format($$ select job_id from public.credit_ledger where user_id = %L and job_id is not null
     group by job_id
     having count(*) filter (where kind = 'reserve') <> 1
       or count(*) filter (where kind in ('capture', 'release')) <> 1 $$, :'leaving'),
  'so each of their jobs is reserved once and settled once');
select is((select count(*)::int from public.credit_ledger
  where user_id = 'b0000000-0000-4000-8000-000000000002' and kind = 'grant'), 1,
  'the idle user''s sign-up grant is kept');
select is((select count(*)::int from vidqueue.slots where job_id is not null), 0,
  'the slot is free again');

-- fal's late news about the deleted job at fal changes nothing, and the reconciler finds nothing.
select is((select count(*)::int from vidqueue.job_by_request('req-at-fal') r where r.id is not null),
  0, 'the webhook''s request id matches no job');
select is(
  (select count(*)::int from (
     select (vidqueue.job_finalizing(:'at_fal', '{}', 'req-at-fal')).id
     union all select (vidqueue.job_provider_failed(:'at_fal', 'x', 'x', 'req-at-fal')).id
     union all select (vidqueue.job_started(:'at_fal')).id
     union all select (vidqueue.job_completed(:'at_fal', 'x')).id) t where t.id is not null),
  0, 'the transitions fal''s answers would call are no-ops');
select is_empty(
  format($$ select r.job from vidqueue.reconcile_claim(0, 0, 50) r
     where (r.job ->> 'user_id')::uuid = %L $$, :'leaving'),
  'the reconciler is handed none of their jobs');

select results_eq(
  $$ select bucket_id, name from vidqueue.orphan_objects() order by bucket_id, name $$,
  format($$ values ('inputs'::text, %L::text), ('videos', %L) $$,
    :'leaving' || '/start.png', :'leaving' || '/done.mp4'),
  'their files are listed for removal through the Storage API, the service''s are not');
select is((select count(*)::int from storage.objects where name like :'leaving' || '/%'), 2,
  'the files themselves stay until then (SQL may not delete Storage rows)');
select is((select count(*)::int from public.jobs where id = :'other' and status = 'queued'), 1,
  'other users'' jobs are untouched');
select is((select (c).id from vidqueue.job_claim(1, null, 1) c), :'other'::uuid,
  'and the next user''s job gets the freed slot');
select isnt_empty(
  $$ select 1 from realtime.messages where topic = 'admin:stats' $$,
  'the admin statistics were published as the service during the delete');

select * from finish();
rollback;
