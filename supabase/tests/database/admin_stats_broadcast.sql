-- admin:stats is published by the jobs statement trigger at most once a second, inside the
-- changing transaction (a rollback publishes nothing), with the window's figures at most every
-- 10 seconds, and a dispatch with many queued jobs sends messages about the claimed job only,
-- never one per queued job.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '100000')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video');

create temp view stats_sent as
  select m.* from realtime.messages m where m.topic = 'admin:stats';

update vidqueue.admin_stats_pulse set sent_at = '-infinity';
select (c.job).id as job from vidqueue.job_create('a0000000-0000-4000-8000-000000000001',
  'video', 't-video', '{"prompt":"one"}', 1, 0, null, null) c \gset
select is((select count(*)::int from stats_sent), 1, 'the first change publishes the stats');
select ok((select private and event = 'stats' and extension = 'broadcast'
    and payload -> 'stats' -> 'totals' ->> 'queued' = '1' from stats_sent),
  'a private `stats` broadcast carrying queue_stats');
select ok((select payload -> 'stats' ->> 'windowed' = 'true' and payload -> 'stats' ? 'models'
    from stats_sent), 'the first message carries the window''s figures');

-- The pulse was just sent; pin it so the window cannot run out while 200 inserts run on a slow
-- machine (the throttle compares against the wall clock).
update vidqueue.admin_stats_pulse set sent_at = clock_timestamp() + interval '1 minute';
select vidqueue.job_create('a0000000-0000-4000-8000-000000000001', 'video', 't-video',
  '{"prompt":"x"}', 1, 0, null, null)
from generate_series(1, 200);
select is((select count(*)::int from stats_sent), 1,
  '200 more changes within the second publish nothing more');

update vidqueue.admin_stats_pulse set sent_at = clock_timestamp() - interval '2 seconds';
savepoint before;
select vidqueue.job_cancel(:'job', 'a0000000-0000-4000-8000-000000000001');
select is((select count(*)::int from stats_sent), 2, 'a second later the next change publishes');
select ok((select payload -> 'stats' ->> 'windowed' = 'false' and not payload -> 'stats' ? 'models'
      and payload -> 'stats' -> 'credits' ? 'reserved_now'
    from stats_sent order by payload -> 'stats' ->> 'generated_at' desc limit 1),
  'within 10 seconds of the last window figures, only the live parts are sent');
rollback to savepoint before;
select is((select count(*)::int from stats_sent), 1, 'a rolled back change publishes nothing');

-- 201 jobs queued: claiming one sends one job_updated (the claimed job's), no queue positions.
update vidqueue.admin_stats_pulse set sent_at = clock_timestamp();
create temp table before_claim as select count(*)::int as n from realtime.messages;
select vidqueue.job_claim(40, null, 1);
select is((select count(*)::int from realtime.messages) - (select n from before_claim), 1,
  'claiming one of 201 queued jobs sends exactly one message');
select is(vidqueue.publish_admin_stats(true), true, 'publish_admin_stats(true) sends at once');
select ok((select payload -> 'stats' ->> 'windowed' = 'true' from stats_sent
    order by payload -> 'stats' ->> 'generated_at' desc limit 1),
  'with everything');

select * from finish();
rollback;
