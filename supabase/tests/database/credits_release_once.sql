-- A failed or canceled job's reservation is released exactly once; automatic retries keep the
-- reservation; available + reserved always equals grants minus captures.
begin;
select plan(14);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.balance() returns table (available int, reserved int) language sql as $$
  select a.available, a.reserved from public.credit_accounts a
  where a.user_id = 'a0000000-0000-4000-8000-000000000001'
$$;
create function pg_temp.new_job(p_cost int) returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', '{"prompt":"x"}', p_cost, 0, null, null) c
$$;

-- Failure at fal.
select pg_temp.new_job(20) as failing \gset
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'failing', 'req-release');
select results_eq('select * from pg_temp.balance()', $$ values (80, 20) $$, 'reserved while at fal');
select is((vidqueue.job_provider_failed(:'failing', 'provider_error', 'boom')).status, 'failed',
  'fal''s error fails the job');
select results_eq('select * from pg_temp.balance()', $$ values (100, 0) $$,
  'failure releases the reservation');
select is((vidqueue.job_failed(:'failing', 'provider_error', 'boom again')).id, null,
  'a duplicate failure is a no-op');
select is((vidqueue.job_finalizing(:'failing', '{}')).id, null,
  'an OK arriving after the failure is a no-op');
select results_eq('select * from pg_temp.balance()', $$ values (100, 0) $$,
  'released once only');

-- Cancel while queued.
select pg_temp.new_job(15) as queued \gset
select is((vidqueue.job_cancel(:'queued', 'a0000000-0000-4000-8000-000000000001')).status,
  'canceled', 'a queued job is canceled at once');
select results_eq('select * from pg_temp.balance()', $$ values (100, 0) $$,
  'the cancel released its reservation');

-- Automatic retries reuse the reservation, then the last failure releases it once.
select pg_temp.new_job(25) as retried \gset
update public.jobs set max_attempts = 2 where id = :'retried';
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_dispatch_failed(:'retried', 'provider_5xx', 'bad gateway', now() - interval '1 second');
select results_eq('select * from pg_temp.balance()', $$ values (75, 25) $$,
  'a retry keeps the reservation');
select vidqueue.job_claim(5, 5, 1);
select vidqueue.job_submitted(:'retried', 'req-retried');
select vidqueue.job_requeue(:'retried', 'provider_5xx', 'fal infra', now());
select is((select status from public.jobs where id = :'retried'), 'failed',
  'with no attempt left a requeue fails the job');
select results_eq('select * from pg_temp.balance()', $$ values (100, 0) $$,
  'and releases the reservation');
select is((select count(*)::int from public.credit_ledger where job_id = :'retried'), 2,
  'one reserve and one release over all attempts');

select throws_ok(
  format($$ insert into public.credit_ledger (user_id, job_id, kind, amount)
            values ('a0000000-0000-4000-8000-000000000001', %L, 'capture', 25) $$, :'retried'),
  '23505', null, 'a released job can never be captured');

select is_empty(
  $$ select a.user_id from public.credit_accounts a
     where a.available + a.reserved <> (
       select coalesce(sum(case l.kind when 'grant' then l.amount when 'capture' then -l.amount
         else 0 end), 0)
       from public.credit_ledger l where l.user_id = a.user_id) $$,
  'available + reserved = grants - captures for every account');

select * from finish();
rollback;
