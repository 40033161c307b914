-- RLS on every table, as the owner, a stranger and anon: users read only their own jobs,
-- events and credit account; nobody but the service reads settings or writes anything; the API
-- roles cannot call the write functions.
-- Users' reads run as vidqueue_reader with their claims (what the functions do); anon's as
-- `anon` (the Data API, which shows none of Vidqueue's tables). Since
-- 20251207000100_data_api_closed.sql nobody reads the ledger, models or templates as a user
-- (the functions read the catalog as the service), and the reader sees only the columns the
-- functions read.
begin;
select plan(35);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');
insert into public.models (id, endpoint_id, kind, title, enabled) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', true),
  ('t-hidden', 'fal-ai/test/hidden', 'video', 'Hidden', false);
insert into public.templates (id, title, prompt, model, enabled) values
  ('t-on', 'On', 'A {{X}}', 't-video', true),
  ('t-off', 'Off', 'A {{Y}}', 't-video', false);
select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"mine"}', 10, 0, null, null) c \gset

create function pg_temp.count_as(p_claims jsonb, p_query text) returns int language plpgsql as $$
declare
  v int;
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute format('set local role %I',
    case p_claims ->> 'role' when 'authenticated' then 'vidqueue_reader' else p_claims ->> 'role' end);
  execute format('select count(*)::int from (%s) q', p_query) into v;
  reset role;
  return v;
exception when insufficient_privilege then
  reset role;
  return -1;
end
$$;

create temp table who (name text, claims jsonb);
insert into who values
  ('owner', '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'),
  ('stranger', '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}'),
  ('anon', '{"role":"anon"}');
grant select on who to public;

-- Reads: -1 means permission denied.
create temp table expected_reads (tbl text, query text, owner int, stranger int, anon int);
insert into expected_reads values
  ('jobs', 'select * from public.jobs', 1, 0, -1),
  ('job_events', 'select id, kind, detail from public.job_events', 1, 0, -1),
  ('credit_accounts', 'select user_id, available, reserved from public.credit_accounts', 1, 1, -1),
  ('credit_ledger', 'select * from public.credit_ledger', -1, -1, -1),
  ('settings', 'select * from public.settings', -1, -1, -1),
  ('models', 'select * from public.models where id like ''t-%''', -1, -1, -1),
  ('templates', 'select * from public.templates where id like ''t-%''', -1, -1, -1);

select is(pg_temp.count_as(w.claims, e.query),
  case w.name when 'owner' then e.owner when 'stranger' then e.stranger else e.anon end,
  format('%s reads %s', w.name, e.tbl))
from expected_reads e cross join who w
order by e.tbl, w.name;

select is(pg_temp.count_as(
  '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}',
  format('select * from public.credit_ledger where user_id = %L',
    'a0000000-0000-4000-8000-000000000001')), -1,
  'a stranger cannot read the owner''s ledger rows even by id');

-- Writes: every write by an API role is refused.
create function pg_temp.write_as(p_claims jsonb, p_sql text, p_role text default null)
returns text language plpgsql as $$
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  execute format('set local role %I', coalesce(p_role, p_claims ->> 'role'));
  execute p_sql;
  reset role;
  return 'allowed';
exception when others then
  reset role;
  return sqlstate;
end
$$;

select is(pg_temp.write_as(w.claims, s.stmt), '42501', format('%s cannot %s', w.name, s.what))
from (values
  ('insert a job', $$ insert into public.jobs (user_id, kind, model)
      values ('a0000000-0000-4000-8000-000000000001', 'video', 't-video') $$),
  ('update a job', $$ update public.jobs set status = 'completed' $$),
  ('add credits', $$ update public.credit_accounts set available = 1000000 $$),
  ('write the ledger', $$ insert into public.credit_ledger (user_id, kind, amount, external_id)
      values ('a0000000-0000-4000-8000-000000000001', 'grant', 5, 'x') $$)
) s(what, stmt)
cross join (select * from who where name in ('owner', 'anon')) w
order by s.what, w.name;

select is(pg_temp.write_as('{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}',
  format($$ select vidqueue.grant_credits(%L, 1000, 'hack', 'hack:1') $$,
    'a0000000-0000-4000-8000-000000000001')),
  '42501', 'a user cannot call grant_credits');
select is(pg_temp.write_as('{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}',
  format($$ select vidqueue.job_completed(%L, 'x') $$, :'job')),
  '42501', 'a user cannot call a transition');
select is(pg_temp.write_as('{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}',
  'select * from vidqueue.slots'), '42501', 'a user cannot read the slots');
select is(pg_temp.write_as('{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}',
  'select vidqueue.job_public(j) from public.jobs j', 'vidqueue_reader'), 'allowed',
  'a user can read their jobs as client objects');

select results_eq(
  $$ select status, version from public.jobs $$,
  format($$ values ('queued'::text, 1) $$),
  'nothing changed');

select * from finish();
rollback;
