-- vidqueue.reconcile_claim leases the jobs the reconciler must look at: at fal, being
-- dispatched or finalizing, once they had no news for the grace period, then with a doubling
-- backoff; news (a transition) restarts the count; jobs past their model's timeout are always
-- due and flagged. A lease is bookkeeping: it does not bump version or broadcast.
begin;
select plan(23);

insert into public.settings (key, value) values ('free_credits_user', '1000')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds, timeout_seconds)
  values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100, 900);

create function pg_temp.new_job(p_prompt text) returns uuid language sql as $$
  select (c.job).id from vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video',
    't-video', jsonb_build_object('prompt', p_prompt), 1, 0, null, null) c
$$;
-- Moves a job's clocks back by p_seconds (time passing, inside one transaction).
create function pg_temp.age(p_job uuid, p_seconds int) returns void language sql as $$
  update public.jobs set
    updated_at = updated_at - make_interval(secs => p_seconds),
    created_at = created_at - make_interval(secs => p_seconds),
    dispatching_at = dispatching_at - make_interval(secs => p_seconds),
    submitted_at = submitted_at - make_interval(secs => p_seconds),
    started_at = started_at - make_interval(secs => p_seconds),
    finalizing_at = finalizing_at - make_interval(secs => p_seconds),
    reconcile_checked_at = reconcile_checked_at - make_interval(secs => p_seconds)
  where id = p_job
$$;
create function pg_temp.due(p_grace int, p_backoff int default null) returns text
language sql as $$
  select coalesce(string_agg(r.job -> 'input' ->> 'prompt'
    || case when r.timed_out then '!' else '' end, ',' order by r.job -> 'input' ->> 'prompt'), '')
  from vidqueue.reconcile_claim(p_grace, p_backoff, 50) r
$$;

select pg_temp.new_job('waiting') as waiting, pg_temp.new_job('at-fal') as atfal,
  pg_temp.new_job('dispatching') as dispatching, pg_temp.new_job('copying') as copying,
  pg_temp.new_job('done') as done \gset
select vidqueue.job_claim(10, 10, 10);
-- 'waiting' goes back to the queue to wait for its retry time: plainly queued.
select vidqueue.job_dispatch_failed(:'waiting', 'x', 'x', now() + interval '1 hour');
select vidqueue.job_submitted(:'atfal', 'req-atfal');
select vidqueue.job_submitted(:'copying', 'req-copying');
select vidqueue.job_finalizing(:'copying', '{"video":{"url":"https://fal.media/v.mp4"}}');
select vidqueue.job_submitted(:'done', 'req-done');
select vidqueue.job_finalizing(:'done', '{}');
select vidqueue.job_completed(:'done', 'a/done.mp4');

select is(pg_temp.due(2), '', 'nothing is due within the grace period');
select pg_temp.age(:'waiting', 3600), pg_temp.age(:'atfal', 3), pg_temp.age(:'dispatching', 3),
  pg_temp.age(:'copying', 3), pg_temp.age(:'done', 3600);
select is(pg_temp.due(2), 'at-fal,copying,dispatching',
  'after the grace period: jobs at fal, being dispatched and finalizing; never queued or terminal');
select results_eq(
  format($$ select reconcile_checks, reconcile_checked_at = now(), version
            from public.jobs where id = %L $$, :'atfal'),
  $$ values (1, true, 3) $$,
  'the lease records the check without bumping version');
select is((select count(*)::int from realtime.messages
  where (payload -> 'job' ->> 'id')::uuid = :'atfal'::uuid
    and (payload -> 'job' ->> 'version')::int > 3), 0, 'and broadcasts nothing');
select is(pg_temp.due(2), '', 'a leased job is not handed out again at once');

-- Backoff: the n-th check waits backoff * 2^(n-1) after the previous one.
select pg_temp.age(:'atfal', 1);
select is(pg_temp.due(2), '', '1 s after check 1: not yet (backoff 2 s)');
select pg_temp.age(:'atfal', 1);
select is(pg_temp.due(2), 'at-fal', '2 s after check 1: due again');
select is((select reconcile_checks from public.jobs where id = :'atfal'), 2, 'check 2');
select pg_temp.age(:'atfal', 3);
select is(pg_temp.due(2), '', '3 s after check 2: not yet (backoff 4 s)');
select pg_temp.age(:'atfal', 1);
select is(pg_temp.due(2), 'at-fal', '4 s after check 2: due again');
select pg_temp.age(:'atfal', 7);
select is(pg_temp.due(2, 1), 'at-fal', 'an explicit backoff base (1 s: 4 s after check 3) wins');

-- News restarts the count: the next check is one grace period after the transition.
select vidqueue.job_started(:'atfal');
select pg_temp.age(:'atfal', 1);
select is(pg_temp.due(2), '', 'news: not due within the grace period');
select pg_temp.age(:'atfal', 1);
select is(pg_temp.due(2), 'at-fal', 'due one grace period after the news');
select is((select reconcile_checks from public.jobs where id = :'atfal'), 1,
  'counting from 1 again');

-- Without WEBHOOK_GRACE_S: expected_seconds + 60 at fal, 60 s for a copy.
select pg_temp.new_job('slow') as slow \gset
select vidqueue.job_claim(10, 10, 10);
select vidqueue.job_submitted(:'slow', 'req-slow');
select pg_temp.age(:'slow', 159);
select is(pg_temp.due(null), '', 'no grace set: not due before expected + 60 s');
select pg_temp.age(:'slow', 1);
select is(pg_temp.due(null), 'slow', 'due at expected + 60 s');
select pg_temp.new_job('copy2') as copy2 \gset
select vidqueue.job_claim(10, 10, 10);
select vidqueue.job_finalizing(:'copy2', '{}', 'req-copy2');
select pg_temp.age(:'copy2', 59);
select is(pg_temp.due(null), '', 'a copy: not due before 60 s');
select pg_temp.age(:'copy2', 1);
select is(pg_temp.due(null), 'copy2', 'a copy: due at 60 s');

-- Timeouts: past the model's timeout_seconds (from this attempt's dispatch) → always due, flagged.
select pg_temp.age(:'slow', 740);
select is(pg_temp.due(2), 'slow', 'just before the timeout: an ordinary check');
select pg_temp.age(:'slow', 1);
select is(pg_temp.due(2), 'slow!', 'past the timeout: due at once, even right after a check');
select is((select r.endpoint_id from vidqueue.reconcile_claim(0, 0, 50) r
  where (r.job ->> 'id')::uuid = :'slow'::uuid), 'fal-ai/test/video',
  'with its model''s fal endpoint');
select is((select count(*)::int from vidqueue.reconcile_claim(0, 0, 0)), 0, 'a limit of 0 leases nothing');
-- A parent follows its children and is never chased, however long it has been in progress.
update public.jobs set kind = 'batch', model = null where id = :'copy2';
update public.jobs set updated_at = now() - interval '1 day', finalizing_at = now() - interval '1 day'
  where id = :'copy2';
select is((select count(*)::int from vidqueue.reconcile_claim(0, 0, 50) r
  where (r.job ->> 'id')::uuid = :'copy2'::uuid), 0, 'batch and story parents are never leased');

select * from finish();
rollback;
