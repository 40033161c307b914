-- Limits from p_limits: max_queued and submits_per_min over the user's top-level jobs raise
-- VQ429 with the Retry-After seconds as the DETAIL, and write nothing; idempotent replays pass.
begin;
select plan(15);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 120);

create function pg_temp.error_detail(p_sql text) returns text language plpgsql as $$
declare
  v_detail text;
begin
  execute p_sql;
  return 'no error';
exception when others then
  get stacked diagnostics v_detail = pg_exception_detail;
  return v_detail;
end
$$;

create function pg_temp.create(p_user uuid, p_limits jsonb, p_key text default null,
  p_parent uuid default null) returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create(p_user, 'video', 't-video', '{"prompt":"x"}', 1, 0,
    p_key, 'h', p_limits, p_parent) c
$$;

-- max_queued
select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}', 'k1') as q1 \gset
select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}') as q2 \gset
select throws_ok(
  $$ select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}') $$,
  'VQ429', null, 'a third queued job over max_queued 2 raises VQ429');
select is(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001',
    '{"max_queued":2}') $$),
  '10', 'with nothing at fal the Retry-After estimate is 10 s');
select is((select count(*)::int from public.jobs
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 2, 'nothing was written');
select is(pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}', 'k1'),
  :'q1'::uuid, 'an idempotent replay passes the limit');
select isnt(pg_temp.create('b0000000-0000-4000-8000-000000000002', '{"max_queued":2}'), null,
  'other users'' queued jobs do not count');
select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}', null, :'q1')
  as child \gset
select isnt(:'child'::uuid, null, 'child jobs are not limited');
select vidqueue.job_cancel(:'child', 'a0000000-0000-4000-8000-000000000001');
-- One queued job goes to fal: room again, and the estimate follows its expected seconds.
select vidqueue.job_cancel(:'q2', 'a0000000-0000-4000-8000-000000000001');
select isnt(pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}'), null,
  'after a cancel there is room again');
-- Everything here was created in one transaction (same now()), so make the owner's queued job
-- the oldest: the claim must pick it, not the other user's.
update public.jobs set created_at = created_at - interval '1 second'
  where user_id = 'a0000000-0000-4000-8000-000000000001' and status = 'queued';
select vidqueue.job_submitted(c.id, 'req-1') from vidqueue.job_claim(10, null, 1) c;
select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"max_queued":2}');
select cmp_ok(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001',
    '{"max_queued":2}') $$)::int,
  '=', 120, 'Retry-After is when the user''s job at fal is expected to finish');
select is(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{}') $$),
  'no error', 'without limits nothing is refused');

-- submits_per_min (the owner now has 5 top-level jobs created "now").
select throws_ok(
  $$ select pg_temp.create('a0000000-0000-4000-8000-000000000001', '{"submits_per_min":5}') $$,
  'VQ429', null, 'the 6th submit within a minute over submits_per_min 5 raises VQ429');
update public.jobs set created_at = now() - interval '50 seconds'
where id in (:'q1', :'q2');
select is(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001',
    '{"submits_per_min":5}') $$),
  '10', 'Retry-After is when the oldest submit of the window is a minute old');
select is(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001',
    '{"submits_per_min":4}') $$),
  '10', 'with two over the limit, the second oldest decides');
update public.jobs set created_at = now() - interval '61 seconds' where id = :'q1';
select is(
  pg_temp.error_detail($$ select pg_temp.create('a0000000-0000-4000-8000-000000000001',
    '{"submits_per_min":5}') $$),
  'no error', 'a submit older than a minute no longer counts');
select is(
  pg_temp.error_detail($$ select pg_temp.create('b0000000-0000-4000-8000-000000000002',
    '{"submits_per_min":1}') $$),
  '60', 'the stranger is limited on their own jobs only');
select is((select count(*)::int from public.jobs
  where user_id = 'b0000000-0000-4000-8000-000000000002'), 1,
  'a refused submit wrote nothing');

select * from finish();
rollback;
