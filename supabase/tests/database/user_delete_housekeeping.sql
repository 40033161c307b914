-- Deleting an auth user removes their jobs, events and credit account, frees any slot their
-- jobs held, keeps the credit ledger, and lists their leftover Storage objects for removal.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'leaving@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'staying@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

select (c.job).id as at_fal from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 10, 0, null, null) c \gset
select (c.job).id as waiting from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"y"}', 10, 0, null, null, '{}', :'at_fal') c \gset
select (c.job).id as other from vidqueue.job_create('b0000000-0000-4000-8000-000000000002',
  'video', 't-video', '{"prompt":"z"}', 10, 0, null, null) c \gset
update public.jobs set created_at = now() - interval '1 minute' where id = :'at_fal';
select vidqueue.job_claim(1, 1, 1);
select vidqueue.job_submitted(:'at_fal', 'req-leaving');
insert into storage.objects (bucket_id, name) values
  ('videos', 'a0000000-0000-4000-8000-000000000001/old.mp4'),
  ('inputs', 'a0000000-0000-4000-8000-000000000001/start.png'),
  ('videos', 'b0000000-0000-4000-8000-000000000002/keep.mp4');
create temp table ledger_before as
  select * from public.credit_ledger where user_id = 'a0000000-0000-4000-8000-000000000001';

select is((select count(*)::int from vidqueue.slots where job_id = :'at_fal'), 1,
  'the leaving user''s job holds the only slot');
select is((select count(*)::int from vidqueue.orphan_objects()), 0, 'no orphan objects yet');

delete from auth.users where id = 'a0000000-0000-4000-8000-000000000001';

select is((select count(*)::int from public.jobs
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 0, 'their jobs are gone');
select is((select count(*)::int from public.job_events
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 0, 'their job events are gone');
select is((select count(*)::int from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 0, 'their credit account is gone');
select results_eq(
  $$ select l.* from public.credit_ledger l join ledger_before b using (id) order by l.id $$,
  $$ select * from ledger_before order by id $$,
  'the ledger keeps every row, with user and job ids');
select is((select count(*)::int from vidqueue.slots where job_id is not null), 0,
  'the slot is free again');
select is((select (c).id from vidqueue.job_claim(1, 1, 1) c), :'other'::uuid,
  'and the next user''s job gets it');
select results_eq(
  $$ select bucket_id, name from vidqueue.orphan_objects() order by bucket_id, name $$,
  $$ values ('inputs'::text, 'a0000000-0000-4000-8000-000000000001/start.png'::text),
     ('videos', 'a0000000-0000-4000-8000-000000000001/old.mp4') $$,
  'their Storage objects are listed for removal through the Storage API');
select is((select count(*)::int from public.jobs where id = :'other'), 1,
  'other users'' jobs are untouched');

select * from finish();
rollback;
