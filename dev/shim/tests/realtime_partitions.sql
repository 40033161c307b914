-- realtime.messages as Supabase Realtime keeps it: partitioned by range of inserted_at, one
-- partition per UTC day (messages_YYYY_MM_DD, yesterday to three days ahead, owned by
-- supabase_realtime_admin), no default partition, so a row for a day without a partition fails
-- and realtime.send (SECURITY INVOKER) turns that, or a caller who may not insert, into a
-- WARNING and no message. The upkeep creates missing days and drops days older than 72 hours.
begin;
select plan(17);

create function pg_temp.partitions() returns text[] language sql as $$
  select coalesce(array_agg(c.relname::text order by c.relname), '{}')
  from pg_inherits i join pg_class c on c.oid = i.inhrelid
  where i.inhparent = 'realtime.messages'::regclass
$$;
create function pg_temp.day_name(p_offset int) returns text language sql as $$
  select 'messages_' || to_char((now() at time zone 'utc')::date + p_offset, 'YYYY_MM_DD')
$$;

select is((select relkind::text from pg_class where oid = 'realtime.messages'::regclass), 'p',
  'realtime.messages is partitioned');
select is(
  (select pg_get_partkeydef('realtime.messages'::regclass)), 'RANGE (inserted_at)',
  'by range of inserted_at');
select is(
  (select array_agg(a.attname::text order by a.attname) from pg_index x
   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = any (x.indkey)
   where x.indrelid = 'realtime.messages'::regclass and x.indisprimary),
  array['id', 'inserted_at'], 'its primary key is (id, inserted_at)');
select ok(pg_temp.partitions() @> array[pg_temp.day_name(-1), pg_temp.day_name(0),
    pg_temp.day_name(1), pg_temp.day_name(2), pg_temp.day_name(3)],
  'partitions exist from yesterday to three days ahead');
select is(
  (select pg_get_expr(c.relpartbound, c.oid) from pg_class c
   where c.relname = pg_temp.day_name(0) and c.relnamespace = 'realtime'::regnamespace),
  format('FOR VALUES FROM (''%s 00:00:00'') TO (''%s 00:00:00'')',
    (now() at time zone 'utc')::date, (now() at time zone 'utc')::date + 1),
  'a partition holds one UTC day');
select is(
  (select count(*)::int from pg_inherits i join pg_class c on c.oid = i.inhrelid
   where i.inhparent = 'realtime.messages'::regclass
     and c.relowner <> 'supabase_realtime_admin'::regrole),
  0, 'every partition belongs to supabase_realtime_admin');
select is(
  (select partdefid from pg_partitioned_table where partrelid = 'realtime.messages'::regclass),
  0::oid, 'there is no default partition');
select throws_ok(
  $$ insert into realtime.messages (topic, extension, inserted_at)
     values ('room:old', 'broadcast', '2001-01-01') $$,
  '23514', null, 'a row for a day without a partition is refused');

select ok(
  (select not p.prosecdef and p.proconfig is null and p.proowner = 'supabase_realtime_admin'::regrole
   from pg_proc p where p.oid = 'realtime.send(jsonb, text, text, boolean)'::regprocedure),
  'realtime.send runs with the caller''s rights, no pinned search_path, owned by Realtime');
select ok(
  (select bool_and(not p.prosecdef) from pg_proc p
   where p.pronamespace = 'realtime'::regnamespace),
  'no realtime function is SECURITY DEFINER');

-- A caller RLS refuses: anon may insert into realtime.messages, but no policy lets it.
set local role anon;
select lives_ok($$ select realtime.send('{"n":1}', 'e', 'room:anon-refused', true) $$,
  'realtime.send turns a refused insert into a warning');
reset role;
select is((select count(*)::int from realtime.messages where topic = 'room:anon-refused'), 0,
  'and no message is stored');

-- Today's partition gone (as when Realtime has not run its upkeep): the broadcast is lost.
select format('drop table realtime.%I', pg_temp.day_name(0)) as drop_today \gset
:drop_today;
select lives_ok($$ select realtime.send('{"n":2}', 'e', 'room:no-partition', true) $$,
  'realtime.send does not abort the caller when today has no partition');
select is((select count(*)::int from realtime.messages where topic = 'room:no-partition'), 0,
  'and the message is lost, as on hosted');

-- The upkeep, run as if it were mid-June 2031 and then four days later.
select is(supabase_shim.realtime_maintain_partitions('2031-06-15 12:00+00'),
  array['messages_2031_06_14', 'messages_2031_06_15', 'messages_2031_06_16',
    'messages_2031_06_17', 'messages_2031_06_18'],
  'the upkeep creates yesterday to three days ahead');
select is(supabase_shim.realtime_maintain_partitions('2031-06-19 12:00+00'),
  array['messages_2031_06_19', 'messages_2031_06_20', 'messages_2031_06_21',
    'messages_2031_06_22'],
  'and later only the days still missing');
select is(pg_temp.partitions(),
  array['messages_2031_06_16', 'messages_2031_06_17', 'messages_2031_06_18',
    'messages_2031_06_19', 'messages_2031_06_20', 'messages_2031_06_21', 'messages_2031_06_22'],
  'days that ended more than 72 hours ago are dropped (and today''s real ones with them)');

select * from finish();
rollback;
