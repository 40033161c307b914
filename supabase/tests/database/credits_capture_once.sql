-- A completed job's reservation is captured exactly once, whatever arrives after it (duplicate
-- completion, a failure, a cancel), and a settled job can never be settled again.
begin;
select plan(11);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 30, 0, null, null) c \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'job', 'req-capture');
select vidqueue.job_started(:'job');
select vidqueue.job_finalizing(:'job', '{"video":{"url":"https://fal.media/v.mp4"}}');

select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (70, 30) $$, 'while finalizing the credits are still reserved');

select isnt((vidqueue.job_completed(:'job', 'a/b.mp4')).id, null, 'completion succeeds');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (70, 0) $$, 'completion captures: reserved drops, available stays');
select results_eq(
  format($$ select kind, amount from public.credit_ledger where job_id = %L order by id $$, :'job'),
  $$ values ('reserve'::text, 30), ('capture'::text, 30) $$,
  'the ledger has one reserve and one capture');

select is((vidqueue.job_completed(:'job', 'a/b.mp4')).id, null, 'a duplicate completion is a no-op');
select is((vidqueue.job_failed(:'job', 'late', 'late error')).id, null,
  'a failure after completion is a no-op');
select is((vidqueue.job_provider_failed(:'job', 'late', 'late error')).id, null,
  'fal''s ERROR after completion is a no-op');
select is((vidqueue.job_cancel(:'job', 'a0000000-0000-4000-8000-000000000001')).id, null,
  'a cancel after completion is a no-op');
select results_eq(
  format($$ select kind, count(*)::int from public.credit_ledger where job_id = %L
            group by kind order by kind $$, :'job'),
  $$ values ('capture'::text, 1), ('reserve'::text, 1) $$,
  'still exactly one capture and no release');

select throws_ok(
  format($$ insert into public.credit_ledger (user_id, job_id, kind, amount)
            values ('a0000000-0000-4000-8000-000000000001', %L, 'release', 30) $$, :'job'),
  '23505', null, 'the ledger itself refuses a second settlement of the job');
select is(vidqueue.settle_credits((select j from public.jobs j where j.id = :'job'), 'capture'),
  false, 'settling again moves nothing');

select * from finish();
rollback;
