-- job_claim hands out dispatch slots: priority first, then age; never more than
-- p_max_concurrency jobs hold a slot, nor more than p_user_max_active per user; jobs waiting for
-- a retry time, already dispatching, or parents are skipped; claiming sets dispatching_at and
-- attempts + 1; leaving fal frees the slot.
begin;
select plan(24);

insert into public.settings (key, value) values ('free_credits_user', '1000')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'a@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'b@example.com'),
  ('c0000000-0000-4000-8000-000000000003', 'c@example.com');
insert into public.models (id, endpoint_id, kind, title)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create function pg_temp.new_job(p_user uuid, p_priority int, p_prompt text) returns uuid
language sql as $$
  select (c.job).id from vidqueue.job_create(p_user, 'video', 't-video',
    jsonb_build_object('prompt', p_prompt), 1, p_priority, null, null) c
$$;
create function pg_temp.prompt(p_id uuid) returns text language sql as $$
  select input ->> 'prompt' from public.jobs where id = p_id
$$;
create function pg_temp.claimed(p_max int, p_user_max int, p_limit int) returns text
language sql as $$
  select coalesce(string_agg(c.input ->> 'prompt', ',' order by c.priority desc, c.created_at), '')
  from vidqueue.job_claim(p_max, p_user_max, p_limit) c
$$;
create function pg_temp.held() returns int language sql as $$
  select count(*)::int from vidqueue.slots where job_id is not null
$$;

-- Ages: a1 oldest ... (created_at set explicitly; all share the transaction's now()).
select pg_temp.new_job('a0000000-0000-4000-8000-000000000001', 0, 'a1') as a1,
  pg_temp.new_job('a0000000-0000-4000-8000-000000000001', 0, 'a2') as a2,
  pg_temp.new_job('a0000000-0000-4000-8000-000000000001', 0, 'a3') as a3,
  pg_temp.new_job('b0000000-0000-4000-8000-000000000002', 0, 'b1') as b1,
  pg_temp.new_job('b0000000-0000-4000-8000-000000000002', 5, 'b-high') as bhigh,
  pg_temp.new_job('c0000000-0000-4000-8000-000000000003', 0, 'c-later') as clater,
  pg_temp.new_job('c0000000-0000-4000-8000-000000000003', 9, 'c-retry') as cretry \gset
update public.jobs set created_at = now() - interval '10 minutes' where id = :'a1';
update public.jobs set created_at = now() - interval '9 minutes' where id = :'a2';
update public.jobs set created_at = now() - interval '8 minutes' where id = :'a3';
update public.jobs set created_at = now() - interval '7 minutes' where id = :'b1';
update public.jobs set created_at = now() - interval '1 minute' where id = :'bhigh';
update public.jobs set created_at = now() - interval '30 seconds' where id = :'clater';
-- c-retry has the highest priority but waits for its retry time.
update public.jobs set next_attempt_at = now() + interval '1 hour' where id = :'cretry';
-- A parent never runs at fal.
select (c.job).id as parent from vidqueue.job_create('c0000000-0000-4000-8000-000000000003',
  'story', null, '{"prompt":"story"}', 0, 100, null, null) c \gset

select is(pg_temp.claimed(3, 2, 1), 'b-high', 'the highest priority goes first');
select results_eq(
  format($$ select dispatching_at is not null, attempts, version, status from public.jobs
            where id = %L $$, :'bhigh'),
  $$ values (true, 1, 2, 'queued'::text) $$,
  'a claimed job stays queued, dispatching, attempts + 1, version bumped');
select is((select count(*)::int from public.job_events where job_id = :'bhigh' and kind = 'claimed'),
  1, 'the claim is an event');
select is(pg_temp.held(), 1, 'it holds one slot');
select is(pg_temp.claimed(3, 2, 5), 'a1,a2', 'then the oldest, up to the free slots');
select is(pg_temp.held(), 3, 'three slots held');
select is(pg_temp.claimed(3, 2, 5), '', 'no free slot: nothing is claimed');

-- Free a1's slot: user a then holds 1 of its 2, so its oldest waiting job a3 is next ...
select vidqueue.job_submitted(:'a1', 'req-a1');
select is(pg_temp.claimed(3, 2, 5), '', 'a submitted job still holds its slot');
select vidqueue.job_finalizing(:'a1', '{}');
select is(pg_temp.held(), 2, 'finalizing frees the slot');
select is(pg_temp.claimed(3, 2, 5), 'a3', 'the oldest waiting job takes the free slot');

-- ... and with a2 + a3 user a is at its cap of 2, so b1 is next even though a job of a is older.
select pg_temp.new_job('a0000000-0000-4000-8000-000000000001', 0, 'a4') as a4 \gset
update public.jobs set created_at = now() - interval '20 minutes' where id = :'a4';
select vidqueue.job_failed(:'bhigh', 'e', 'm');
select is(pg_temp.held(), 2, 'failing frees the slot');
select is(pg_temp.claimed(3, 2, 5), 'b1', 'a user at the active cap is skipped for the next user');
select is(pg_temp.claimed(10, 2, 10), 'c-later',
  'more slots: user a stays capped, c-retry waits, the parent is never claimed');
select is(pg_temp.claimed(10, null, 10), 'a4', 'a null per-user cap means no cap');
select is(pg_temp.claimed(10, null, 10), '', 'nothing left to claim');

-- The retry time passes.
update public.jobs set next_attempt_at = now() - interval '1 second' where id = :'cretry';
select is(pg_temp.claimed(10, null, 1), 'c-retry', 'a job whose retry time has passed is claimed');
select is((select attempts from public.jobs where id = :'cretry'), 1, 'attempts counted');

-- A dispatch failure frees the slot and the job waits for its retry time.
select vidqueue.job_dispatch_failed(:'cretry', 'provider_5xx', 'oops', now() + interval '1 minute');
select is(pg_temp.claimed(10, null, 10), '', 'a job back in the queue waits for next_attempt_at');
update public.jobs set next_attempt_at = now() where id = :'cretry';
select is(pg_temp.claimed(10, null, 10), 'c-retry', 'then is claimed again');
select is((select attempts from public.jobs where id = :'cretry'), 2, 'attempt 2');

-- Lowering the concurrency: slots above the new limit still count.
select is(pg_temp.held(), 6, 'six jobs hold slots');
select vidqueue.job_failed(:'a2', 'e', 'm');
select vidqueue.job_failed(:'a3', 'e', 'm');
select vidqueue.job_cancel(:'parent', 'c0000000-0000-4000-8000-000000000003');
select pg_temp.new_job('b0000000-0000-4000-8000-000000000002', 0, 'b2') as b2 \gset
select is(pg_temp.claimed(3, null, 5), '', 'with 4 held and the limit lowered to 3 nobody is claimed');
select is(pg_temp.claimed(0, null, 5), '', 'a concurrency of 0 claims nothing');
select is(pg_temp.claimed(10, null, 0), '', 'a limit of 0 claims nothing');

select * from finish();
rollback;
