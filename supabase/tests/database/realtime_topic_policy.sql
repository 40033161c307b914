-- Private channel authorisation the way Realtime checks it (probe rows in realtime.messages read
-- as the user with realtime.topic set): users may read only `jobs:<own uid>`; nobody may send.
begin;
select plan(7);

insert into public.settings (key, value) values ('free_credits_user', '100')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com'),
  ('b0000000-0000-4000-8000-000000000002', 'stranger@example.com');

-- Inserts a probe for p_topic as the server does, then reads it back as p_claims' role.
create function pg_temp.may_read(p_claims jsonb, p_topic text) returns boolean language plpgsql as $$
declare
  v_id uuid := gen_random_uuid();
  v_seen int;
begin
  insert into realtime.messages (id, topic, extension, event, private)
  values (v_id, p_topic, 'broadcast', 'probe', true);
  perform set_config('request.jwt.claims', p_claims::text, true);
  perform set_config('realtime.topic', p_topic, true);
  execute format('set local role %I', p_claims ->> 'role');
  select count(*)::int into v_seen from realtime.messages where id = v_id;
  reset role;
  return v_seen = 1;
end
$$;
create function pg_temp.may_send(p_claims jsonb, p_topic text) returns boolean language plpgsql as $$
begin
  perform set_config('request.jwt.claims', p_claims::text, true);
  perform set_config('realtime.topic', p_topic, true);
  execute format('set local role %I', p_claims ->> 'role');
  insert into realtime.messages (topic, extension, event, private, payload)
  values (p_topic, 'broadcast', 'job_updated', true, '{"job":{"status":"completed"}}');
  reset role;
  return true;
exception when insufficient_privilege then
  reset role;
  return false;
end
$$;

\set owner '{"sub":"a0000000-0000-4000-8000-000000000001","role":"authenticated"}'
\set stranger '{"sub":"b0000000-0000-4000-8000-000000000002","role":"authenticated"}'

select is(pg_temp.may_read(:'owner', 'jobs:a0000000-0000-4000-8000-000000000001'), true,
  'the owner may join their own jobs topic');
select is(pg_temp.may_read(:'stranger', 'jobs:a0000000-0000-4000-8000-000000000001'), false,
  'a stranger may not join the owner''s topic');
select is(pg_temp.may_read(:'stranger', 'jobs:b0000000-0000-4000-8000-000000000002'), true,
  'the stranger may join their own topic');
select is(pg_temp.may_read('{"role":"anon"}', 'jobs:a0000000-0000-4000-8000-000000000001'), false,
  'anon may not join a jobs topic');
select is(pg_temp.may_read(:'owner', 'admin:stats'), false, 'users may not join other topics');
select is(pg_temp.may_send(:'owner', 'jobs:a0000000-0000-4000-8000-000000000001'), false,
  'the owner may not send on their topic (no forged job updates)');
select is(pg_temp.may_send(:'stranger', 'jobs:a0000000-0000-4000-8000-000000000001'), false,
  'a stranger may not send on the owner''s topic');

select * from finish();
rollback;
