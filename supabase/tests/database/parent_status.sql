-- A batch's status, progress and summary are derived from its children in the transaction that
-- changes a child: queued while all wait, in_progress once one leaves the queue, terminal when
-- all are finished (failed when one failed, naming how many); each child is charged on its own;
-- the parent is broadcast only when it changes; it never runs at fal.
begin;
select plan(17);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100),
  ('t-fast', 'fal-ai/test/fast', 'video', 'Fast video', 20);

select (c.job).id as parent from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001',
  'batch', '{"prompt":"three"}', '[
    {"kind":"video","model":"t-video","input":{"prompt":"one"},"cost":10,"item":1},
    {"kind":"video","model":"t-video","input":{"prompt":"two"},"cost":10,"item":2},
    {"kind":"video","model":"t-fast","input":{"prompt":"three"},"cost":5,"item":3}
  ]', 0, null, null) c \gset
select id as c1 from public.jobs where parent_id = :'parent' and item = 1 \gset
select id as c2 from public.jobs where parent_id = :'parent' and item = 2 \gset
select id as c3 from public.jobs where parent_id = :'parent' and item = 3 \gset

create function pg_temp.parent(p uuid) returns table (status text, progress int, summary jsonb)
language sql as $$
  select j.status, (vidqueue.job_public(j) ->> 'progress')::int, j.result
  from public.jobs j where j.id = p
$$;

select results_eq(format($$ select status, progress, summary from pg_temp.parent(%L) $$,
    :'parent'),
  $$ values ('queued'::text, 0,
    '{"total":3,"completed":0,"failed":0,"canceled":0,"active":3}'::jsonb) $$,
  'a new batch is queued with every item active');
select is((select count(*)::int from vidqueue.job_claim(10, 10, 10) c where c.kind = 'batch'), 0,
  'the parent is never claimed');
select is((select status from public.jobs where id = :'parent'), 'in_progress',
  'claiming its items moves the batch to in_progress');
select isnt((select started_at from public.jobs where id = :'parent'), null,
  'and records when it started');

select vidqueue.job_submitted(:'c1', 'req-p1');
select vidqueue.job_finalizing(:'c1', '{"video":{"url":"https://fal.media/1.mp4"}}');
select vidqueue.job_completed(:'c1', 'a0000000-0000-4000-8000-000000000001/1.mp4');
select results_eq(format($$ select status, progress, summary ->> 'completed' from pg_temp.parent(%L) $$,
    :'parent'),
  $$ values ('in_progress'::text, 45, '1'::text) $$,
  'one item done: progress weighted by expected seconds (100 of 220 done, the rest dispatching)');
select results_eq(
  format($$ select kind from public.credit_ledger where job_id = %L order by id $$, :'c1'),
  $$ values ('reserve'::text), ('capture') $$, 'the finished item is charged on its own');

select vidqueue.job_submitted(:'c2', 'req-p2');
select vidqueue.job_provider_failed(:'c2', 'provider_error', 'boom');
select results_eq(format($$ select status, summary ->> 'failed' from pg_temp.parent(%L) $$,
    :'parent'),
  $$ values ('in_progress'::text, '1'::text) $$,
  'a failed item does not end the batch while another runs');
select results_eq(
  format($$ select kind from public.credit_ledger where job_id = %L order by id $$, :'c2'),
  $$ values ('reserve'::text), ('release') $$, 'the failed item''s credits are released');

-- The failed item is retried while the batch runs: the retry supersedes it.
select (c.job).id as c2b from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"two"}', 10, 0, null, null, '{}', :'parent', :'c2') c \gset
select results_eq(format($$ select item, status from public.jobs where id = %L $$, :'c2b'),
  $$ values (2, 'queued'::text) $$, 'a retried item keeps its item number');
select results_eq(format($$ select summary ->> 'total', summary ->> 'failed' from pg_temp.parent(%L) $$,
    :'parent'),
  $$ values ('3'::text, '0'::text) $$, 'the superseded item no longer counts');

select vidqueue.job_submitted(:'c3', 'req-p3');
select vidqueue.job_provider_failed(:'c3', 'provider_error', 'boom too');
select vidqueue.job_cancel(:'c2b', 'a0000000-0000-4000-8000-000000000001');
select results_eq(
  format($$ select status, error_code, error_message, finished_at is not null from public.jobs
            where id = %L $$, :'parent'),
  $$ values ('failed'::text, 'items_failed'::text, '1 of 3 items failed.'::text, true) $$,
  'all finished with a failure: the batch failed, saying how many');
select is((select status from public.jobs where id = :'c1'), 'completed',
  'the completed item stays completed (partial results kept)');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values (90, 0) $$, 'only the completed item was paid for');

select throws_ok(
  format($$ select * from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
       't-video', '{"prompt":"late"}', 10, 0, null, null, '{}', %L) $$, :'parent'),
  'VQ409', 'This batch is finished: retry the batch to redo its failed items.',
  'a finished batch takes no new item');

select is(
  (select array_agg(k order by k) from jsonb_object_keys(
    (select vidqueue.job_public(j) from public.jobs j where j.id = :'parent')) k)
  @> array['pipeline', 'credits_cost', 'progress'],
  true, 'the parent''s public object carries its pipeline summary');
select is(
  (select vidqueue.job_public(j) ->> 'item' from public.jobs j where j.id = :'c3'), '3',
  'a child''s public object carries its item number');
select results_eq(
  format($$ select (payload -> 'job' ->> 'version')::int, payload -> 'job' ->> 'status'
            from realtime.messages where (payload -> 'job' ->> 'id')::uuid = %L
            order by (payload -> 'job' ->> 'version')::int $$, :'parent'),
  $$ values (1, 'queued'::text), (2, 'queued'), (3, 'in_progress'), (4, 'in_progress'),
     (5, 'in_progress'), (6, 'in_progress'), (7, 'in_progress'), (8, 'failed') $$,
  'the parent is broadcast once per change of its own, in version order');

select * from finish();
rollback;
