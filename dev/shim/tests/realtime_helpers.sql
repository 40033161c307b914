-- realtime.send() stores a broadcast message with an id in its payload, never aborts the caller,
-- and realtime.topic() reads the topic being authorised; broadcast_changes() wraps a row change.
begin;
select plan(8);

select is(realtime.topic(), null, 'realtime.topic() is null outside an authorisation check');
select set_config('realtime.topic', 'jobs:abc', true);
select is(realtime.topic(), 'jobs:abc', 'realtime.topic() reads the topic setting');

select realtime.send('{"hello":"world"}'::jsonb, 'greeting', 'room:1', true);
select is(
  (select count(*)::int from realtime.messages where topic = 'room:1' and event = 'greeting'
     and extension = 'broadcast' and private),
  1, 'send() inserts one private broadcast message');
select ok(
  (select payload ? 'id' from realtime.messages where topic = 'room:1'),
  'send() adds an id to a payload that has none');
select is(
  (select (payload ->> 'id')::uuid = id from realtime.messages where topic = 'room:1'),
  true, 'the payload id is the message id');

select realtime.send('{"id":"keep-me"}'::jsonb, 'e', 'room:2', false);
select is((select payload ->> 'id' from realtime.messages where topic = 'room:2'), 'keep-me',
  'send() keeps an id the payload already has');

select lives_ok(
  $$ select realtime.send(null::jsonb, 'e', null::text, true) $$,
  'send() turns its own errors into a warning instead of aborting');

create temp table t (id int, name text);
insert into t values (1, 'a');
select realtime.broadcast_changes('room:3', 'INSERT', 'INSERT', 't', 'pg_temp',
  (select t from t limit 1), null);
select is(
  (select payload -> 'record' ->> 'name' from realtime.messages where topic = 'room:3'),
  'a', 'broadcast_changes() sends the new record');

select * from finish();
rollback;
