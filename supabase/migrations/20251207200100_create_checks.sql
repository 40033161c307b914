-- Limits before work: a dry run of creating a job or a parent.
--
-- generate-video checks start images (a query, a Storage copy, a signing call and a download
-- each) before it creates anything. Those checks must not run for a request the user's limits or
-- credits refuse anyway, so the function first asks Postgres whether the create would go
-- through, with exactly the rules of the real one: these run vidqueue.job_create_tx /
-- vidqueue.parent_create_tx in a subtransaction and roll it back. They raise what the real call
-- would (VQ429 rate limited, VQ402 insufficient credits, VQ409 idempotency conflict, VQ400,
-- VQ404) and otherwise return whether the call would be an idempotent replay. Nothing is
-- written (the subtransaction's rows, reservations, events and broadcasts are rolled back).
-- The real create still decides: the check is advisory, a race between the two is harmless.
--
--   vidqueue.job_create_check(<the arguments of vidqueue.job_create>) returns boolean
--   vidqueue.parent_create_check(<the arguments of vidqueue.parent_create>) returns boolean

create function vidqueue.job_create_check(
  p_user uuid,
  p_kind text,
  p_model text,
  p_input jsonb,
  p_cost integer,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_parent uuid default null,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_replayed boolean;
begin
  begin
    select r.replayed into v_replayed
    from vidqueue.job_create_tx(p_user, p_kind, p_model, p_input, p_cost, p_priority,
      p_idempotency_key, p_request_hash, p_limits, p_parent, p_retry_of, p_max_attempts) r;
    raise exception using errcode = 'VQDRY', message = 'dry run';
  exception when sqlstate 'VQDRY' then
    return coalesce(v_replayed, false);
  end;
end
$$;

create function vidqueue.parent_create_check(
  p_user uuid,
  p_kind text,
  p_input jsonb,
  p_children jsonb,
  p_priority integer,
  p_idempotency_key text,
  p_request_hash text,
  p_limits jsonb default '{}'::jsonb,
  p_retry_of uuid default null,
  p_max_attempts integer default 3
)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_replayed boolean;
begin
  begin
    select r.replayed into v_replayed
    from vidqueue.parent_create_tx(p_user, p_kind, p_input, p_children, p_priority,
      p_idempotency_key, p_request_hash, p_limits, p_retry_of, p_max_attempts) r;
    raise exception using errcode = 'VQDRY', message = 'dry run';
  exception when sqlstate 'VQDRY' then
    return coalesce(v_replayed, false);
  end;
end
$$;

revoke all on function
  vidqueue.job_create_check(uuid, text, text, jsonb, integer, integer, text, text, jsonb, uuid,
    uuid, integer),
  vidqueue.parent_create_check(uuid, text, jsonb, jsonb, integer, text, text, jsonb, uuid,
    integer)
from public, anon, authenticated, service_role;
