-- Queue position without scanning the queue.
--
-- vidqueue.queue_position counts the jobs ahead of one in dispatch order (priority desc, then
-- age, then id). It runs for every broadcast and read of a queued job, so with 10 000 queued jobs
-- it was a scan of them all (about 250 ms, for each new job). This expression index holds exactly
-- the jobs that count, in dispatch order, and the function now asks for "the index entries before
-- mine" as one row comparison: an index-only range count.
--
-- Signature unchanged:
--   vidqueue.queue_position(p_id uuid, p_priority integer, p_created_at timestamptz) returns integer

create index jobs_queue_order_idx on public.jobs ((-priority), created_at, id)
  where status = 'queued'
    and dispatching_at is null
    and kind not in ('batch', 'story')
    and next_attempt_at is distinct from 'infinity'::timestamptz;

create or replace function vidqueue.queue_position(
  p_id uuid, p_priority integer, p_created_at timestamptz
)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select 1 + count(*)::integer
  from public.jobs q
  where q.status = 'queued'
    and q.dispatching_at is null
    and q.kind not in ('batch', 'story')
    and q.next_attempt_at is distinct from 'infinity'::timestamptz
    and (-q.priority, q.created_at, q.id) < (-p_priority, p_created_at, p_id)
$$;
