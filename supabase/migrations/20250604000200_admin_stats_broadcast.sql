-- Live queue statistics for the admin dashboard: Realtime topic `admin:stats` (private; only
-- admins may join, see 20250604000000_admin_access.sql), event `stats`, payload
-- {stats: vidqueue.queue_stats(900, 20, windowed)}: the live parts (depth, slots, credits held,
-- stuck jobs) in every message, the 15-minute window's figures (latency percentiles, failures,
-- credit movements, which cost more with a busy window) in at most one message every 10 seconds
-- (`windowed: true`). At most one message per second, however many jobs change:
-- with 10 000 queued jobs a dispatch sends the claimed job's own `job_updated` and nothing for
-- the jobs behind it (queue positions are computed when read, never rebroadcast).
--
-- How: a statement-level trigger on public.jobs calls vidqueue.publish_admin_stats(). It locks
-- the one row of vidqueue.admin_stats_pulse with FOR UPDATE SKIP LOCKED only when the last
-- message is at least a second old, so the transitions never wait for each other here: whoever
-- gets the row publishes (inside its transaction, so a rolled back change publishes nothing),
-- everyone else moves on at the cost of one index lookup.
--
-- The trailing edge: changes in the last second of a burst are published by the next change.
-- When everything goes quiet nothing publishes them, so a subscriber fetches the stats once
-- (admin-queue GET) when no message followed the last one within a second or so; the web
-- dashboard does exactly that (one request per burst, not a polling loop).
--
--   vidqueue.publish_admin_stats(p_force boolean default false) returns boolean
--     Sends the stats now if the last message is a second old (or p_force) and no other
--     transaction is publishing; true when it sent. The window's figures are included when the
--     last message with them is 10 seconds old (or p_force).

create table vidqueue.admin_stats_pulse (
  id boolean primary key default true check (id),
  sent_at timestamptz not null default '-infinity',
  windowed_at timestamptz not null default '-infinity',
  sent_count bigint not null default 0
);
comment on table vidqueue.admin_stats_pulse is
  'When admin:stats was last published (one row; rate limit of the statement trigger).';
insert into vidqueue.admin_stats_pulse default values;
revoke all on vidqueue.admin_stats_pulse from public, anon, authenticated, service_role;

create function vidqueue.publish_admin_stats(p_force boolean default false)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_windowed boolean;
begin
  -- The common case (published less than a second ago) costs one plain read, no row lock.
  if not p_force and exists (
    select 1 from vidqueue.admin_stats_pulse p
    where p.id and p.sent_at > clock_timestamp() - interval '1 second'
  ) then
    return false;
  end if;
  select p_force or p.windowed_at <= clock_timestamp() - interval '10 seconds'
  into v_windowed
  from vidqueue.admin_stats_pulse p
  where p.id and (p_force or p.sent_at <= clock_timestamp() - interval '1 second')
  for update skip locked;
  if not found then
    return false;
  end if;
  perform realtime.send(
    jsonb_build_object('stats', vidqueue.queue_stats(900, 20, v_windowed)),
    'stats', 'admin:stats', true);
  update vidqueue.admin_stats_pulse
  set sent_at = clock_timestamp(),
    windowed_at = case when v_windowed then clock_timestamp() else windowed_at end,
    sent_count = sent_count + 1
  where id;
  return true;
end
$$;

create function vidqueue.admin_stats_on_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform vidqueue.publish_admin_stats(false);
  return null;
end
$$;

revoke all on function
  vidqueue.publish_admin_stats(boolean),
  vidqueue.admin_stats_on_change()
from public, anon, authenticated, service_role;

create trigger vidqueue_admin_stats
  after insert or update or delete on public.jobs
  for each statement execute function vidqueue.admin_stats_on_change();
