-- The daily credit cap: vidqueue.job_claim counts the credits of jobs first sent to fal today
-- (retries count once) and, once the `daily_credit_cap` setting is reached, claims nothing more:
-- jobs wait queued with their reservations until the cap is raised or the UTC day changes.
begin;
select plan(13);

insert into public.settings (key, value) values ('free_credits_user', '1000')
  on conflict (key) do update set value = excluded.value;
delete from public.settings where key = 'daily_credit_cap';
delete from vidqueue.daily_spend;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.new_job(p_prompt text) returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', jsonb_build_object('prompt', p_prompt), 10, 0, null, null) c
$$;
create function pg_temp.spent() returns int language sql as $$
  select spent from vidqueue.daily_cap_status()
$$;
create function pg_temp.claim(p_limit int) returns int language sql as $$
  select count(*)::int from vidqueue.job_claim(100, 100, p_limit)
$$;

select ok(to_regprocedure('vidqueue.job_claim_uncapped(integer,integer,integer)') is not null,
  'the original claim is kept as job_claim_uncapped');
select results_eq($$ select day = (now() at time zone 'utc')::date, spent, cap
                     from vidqueue.daily_cap_status() $$,
  $$ values (true, 0, null::int) $$, 'no spend and no cap to begin with');

-- Without a cap everything is claimed, and first attempts count.
select pg_temp.new_job('first') as first \gset
select is(pg_temp.claim(5), 1, 'no cap: claimed');
select is(pg_temp.spent(), 10, 'its cost counts towards today');
select vidqueue.job_dispatch_failed(:'first', 'provider_unavailable', '503', now());
select is(pg_temp.claim(5), 1, 'its automatic retry is claimed');
select is(pg_temp.spent(), 10, 'a retry does not count again');
select vidqueue.job_submitted(:'first', 'req-first');

-- A cap of 25 with 10 spent: claims go on while below the cap (the last one may cross it).
insert into public.settings (key, value) values ('daily_credit_cap', '25');
select pg_temp.new_job('a'), pg_temp.new_job('b'), pg_temp.new_job('c'), pg_temp.new_job('d');
select is(pg_temp.claim(10), 2, 'two jobs fit while below the cap (10 -> 20 -> 30)');
select is(pg_temp.spent(), 30, 'today''s spend');
select is(pg_temp.claim(10), 0, 'at the cap: nothing more is claimed');
select results_eq($$ select count(*)::int from public.jobs
                     where status = 'queued' and dispatching_at is null $$,
  $$ values (2) $$, 'the rest wait queued');
select is((select reserved from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 50,
  'with their reservations kept');

-- Raising the cap lets them through; a spend from yesterday does not count today.
update public.settings set value = '1000' where key = 'daily_credit_cap';
insert into vidqueue.daily_spend (day, credits)
  values ((now() at time zone 'utc')::date - 1, 100000);
select is(pg_temp.claim(10), 2, 'a higher cap: the waiting jobs are claimed');
select is(pg_temp.spent(), 50, 'yesterday''s spend is not today''s');

select * from finish();
rollback;
