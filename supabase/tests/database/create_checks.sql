-- The create dry runs (vidqueue.job_create_check, vidqueue.parent_create_check) raise what the
-- real create would raise, say whether it would be a replay, and write nothing.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '25')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.rows() returns text language sql as $$
  select format('%s jobs, %s ledger, %s events, %s messages, %s available',
    (select count(*) from public.jobs), (select count(*) from public.credit_ledger),
    (select count(*) from public.job_events), (select count(*) from realtime.messages),
    (select available from public.credit_accounts
     where user_id = 'a0000000-0000-4000-8000-000000000001'))
$$;
select pg_temp.rows() as before \gset

select is(vidqueue.job_create_check('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
    '{"prompt":"x"}', 10, 0, 'k1', 'h1', '{"max_queued":5,"submits_per_min":2}'),
  false, 'a create that would go through: not a replay');
select is(vidqueue.parent_create_check('a0000000-0000-4000-8000-000000000001', 'batch',
    '{"prompt":"b"}', '[{"kind":"video","model":"t-video","input":{},"cost":10,"item":1},
      {"kind":"video","model":"t-video","input":{},"cost":10,"item":2}]', 0, null, 'hb',
    '{"max_queued":5}'),
  false, 'a batch that would go through');
select is(pg_temp.rows(), :'before', 'the dry runs wrote nothing (no job, reservation, event or broadcast)');

select throws_ok($$ select vidqueue.parent_create_check('a0000000-0000-4000-8000-000000000001',
    'batch', '{"prompt":"b"}', '[{"kind":"video","model":"t-video","input":{},"cost":20,"item":1},
      {"kind":"video","model":"t-video","input":{},"cost":20,"item":2}]', 0, null, 'hb') $$,
  'VQ402', null, 'a batch the credits do not cover raises VQ402');

select (c.job).id as first from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"x"}', 1, 0, 'k1', 'h1') c \gset
select vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
  '{"prompt":"y"}', 1, 0, null, 'h2');
select is(vidqueue.job_create_check('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
    '{"prompt":"x"}', 1, 0, 'k1', 'h1', '{"submits_per_min":2}'),
  true, 'the same key and body: a replay, even at the limit');
select throws_ok($$ select vidqueue.job_create_check('a0000000-0000-4000-8000-000000000001',
    'video', 't-video', '{"prompt":"x"}', 1, 0, 'k1', 'other', '{"submits_per_min":2}') $$,
  'VQ409', null, 'the same key with another body raises VQ409');
select throws_ok($$ select vidqueue.job_create_check('a0000000-0000-4000-8000-000000000001',
    'video', 't-video', '{"prompt":"z"}', 1, 0, null, 'h3', '{"submits_per_min":2}') $$,
  'VQ429', null, 'over submits_per_min raises VQ429');
select throws_ok($$ select vidqueue.parent_create_check('a0000000-0000-4000-8000-000000000001',
    'batch', '{"prompt":"b"}', '[{"kind":"video","model":"t-video","input":{},"cost":1,"item":1}]',
    0, null, 'hb', '{"submits_per_min":2}') $$,
  'VQ429', null, 'a batch over submits_per_min raises VQ429');
select is((select count(*)::int from public.jobs), 2, 'only the two real creates wrote jobs');
select ok(not has_function_privilege('authenticated',
    'vidqueue.job_create_check(uuid, text, text, jsonb, integer, integer, text, text, jsonb, uuid, uuid, integer)',
    'execute'), 'API roles cannot call the dry runs');

select * from finish();
rollback;
