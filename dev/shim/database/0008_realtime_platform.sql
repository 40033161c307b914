-- Schema `realtime` as Supabase Realtime's tenant schema has it (supabase/realtime,
-- priv/repo/tenant_schema/realtime/ and the ACLs in priv/repo/tenant_db_dump_15.sql), replacing
-- the first cut of 0005_realtime.sql:
--
-- * realtime.messages is PARTITIONED BY RANGE (inserted_at), primary key (id, inserted_at), one
--   partition per UTC day named messages_YYYY_MM_DD, owned by supabase_realtime_admin, and NO
--   default partition. Realtime creates the partitions from yesterday to three days ahead when a
--   tenant connects and again from its janitor (Realtime.Tenants.create_messages_partitions), and
--   drops those older than 72 hours (Realtime.Messages.delete_old_messages). Here the same work
--   is supabase_shim.realtime_maintain_partitions(): run once below when the shim is applied,
--   then by the dev gateway's Realtime when it starts and every hour while it runs
--   (dev/gateway/realtime/db_messages.ts). A row for a day without a partition fails ("no
--   partition of relation"), so realtime.send turns it into a WARNING and the broadcast is lost,
--   exactly as on hosted.
-- * realtime.send, realtime.topic and realtime.broadcast_changes with the platform's bodies:
--   SECURITY INVOKER, no pinned search_path, owned by supabase_realtime_admin. send inserts with
--   the caller's rights (RLS included), so a caller without INSERT on realtime.messages gets a
--   WARNING and no message.
-- * The schema belongs to supabase_admin; supabase_realtime_admin has ALL on it with grant option,
--   postgres USAGE with grant option, the API roles USAGE. realtime.messages: ALL to postgres and
--   dashboard_user, SELECT, INSERT, UPDATE to anon, authenticated and service_role.
--
-- Dev-only addition: the dev gateway learns of a new message by NOTIFY of its id on channel
-- `realtime_messages` (payloads stay in the table: NOTIFY payloads are capped at 8000 bytes). The
-- trigger function lives in schema supabase_shim, not in realtime, so the realtime schema holds
-- only what hosted has.
--
-- Applied once per database, always after 0005 (which created an unpartitioned table): the
-- policies projects wrote on that table are carried over, the way Realtime's own partitioning
-- migration did it (lib/realtime/tenants/repo/migrations/20241030150047_messages_partitioning.ex).

create temp table shim_realtime_policies on commit drop as
  select p.policyname, p.permissive, p.roles, p.cmd, p.qual, p.with_check
  from pg_policies p
  where p.schemaname = 'realtime' and p.tablename = 'messages';

drop table realtime.messages;
drop function if exists realtime.notify_message();
drop function realtime.send(jsonb, text, text, boolean);
drop function realtime.broadcast_changes(text, text, text, text, text, record, record, text);
drop function realtime.topic();

alter schema realtime owner to supabase_admin;
revoke all on schema realtime from public, supabase_realtime_admin, postgres, anon,
  authenticated, service_role;
grant create, usage on schema realtime to supabase_realtime_admin with grant option;
grant usage on schema realtime to postgres with grant option;
grant usage on schema realtime to anon, authenticated, service_role;

create table realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
create index messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;
alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_realtime_admin;

grant all on table realtime.messages to postgres, dashboard_user;
grant select, insert, update on table realtime.messages to anon, authenticated, service_role;

create function realtime.topic()
  returns text
  language sql
  stable
as $function$
select nullif(current_setting('realtime.topic', true), '')::text;
$function$;
alter function realtime.topic() owner to supabase_realtime_admin;

create function realtime.send(
  payload jsonb,
  event text,
  topic text,
  private boolean default true
)
  returns void
  language plpgsql
as $function$
DECLARE
  generated_id uuid;
  final_payload jsonb;
BEGIN
  BEGIN
    generated_id := gen_random_uuid();

    -- Check if payload has an 'id' key, if not, add the generated UUID
    IF payload ? 'id' THEN
      final_payload := payload;
    ELSE
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    END IF;

    -- Set the topic configuration
    EXECUTE format('SET LOCAL realtime.topic TO %L', topic);

    INSERT INTO realtime.messages (id, payload, event, topic, private, extension)
    VALUES (generated_id, final_payload, event, topic, private, 'broadcast');
  EXCEPTION
    WHEN OTHERS THEN
      RAISE WARNING 'WarnSendingBroadcastMessage: %', SQLERRM;
  END;
END;
$function$;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;

create function realtime.broadcast_changes(
  topic_name text,
  event_name text,
  operation text,
  table_name text,
  table_schema text,
  new record,
  old record,
  level text default 'ROW'::text
)
  returns void
  language plpgsql
as $function$
DECLARE
    -- Declare a variable to hold the JSONB representation of the row
    row_data jsonb := '{}'::jsonb;
BEGIN
    IF level = 'STATEMENT' THEN
        RAISE EXCEPTION 'function can only be triggered for each row, not for each statement';
    END IF;
    -- Check the operation type and handle accordingly
    IF operation = 'INSERT' OR operation = 'UPDATE' OR operation = 'DELETE' THEN
        row_data := jsonb_build_object('old_record', OLD, 'record', NEW, 'operation', operation, 'table', table_name, 'schema', table_schema);
        PERFORM realtime.send (row_data, event_name, topic_name);
    ELSE
        RAISE EXCEPTION 'Unexpected operation type: %', operation;
    END IF;
EXCEPTION
    WHEN OTHERS THEN
        RAISE EXCEPTION 'Failed to process the row: %', SQLERRM;
END;
$function$;
alter function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  owner to supabase_realtime_admin;

-- The platform grants these to postgres and dashboard_user; PUBLIC keeps Postgres' default
-- EXECUTE (the tenant schema never revokes it).
grant all on function realtime.topic() to postgres, dashboard_user;
grant all on function realtime.send(jsonb, text, text, boolean) to postgres, dashboard_user;
grant all on function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  to postgres, dashboard_user;

-- The policies the project had written on the old table, now on the new one (they may call
-- realtime.topic(), so after it exists).
do $$
declare
  v_policy record;
  v_sql text;
begin
  for v_policy in select * from shim_realtime_policies loop
    v_sql := format('create policy %I on realtime.messages as %s for %s to %s',
      v_policy.policyname, v_policy.permissive, v_policy.cmd,
      (select string_agg(case when r = 'public' then 'public' else quote_ident(r) end, ', ')
       from unnest(v_policy.roles) r));
    if v_policy.qual is not null then
      v_sql := v_sql || format(' using (%s)', v_policy.qual);
    end if;
    if v_policy.with_check is not null then
      v_sql := v_sql || format(' with check (%s)', v_policy.with_check);
    end if;
    execute v_sql;
  end loop;
end
$$;

-- Dev-only delivery: NOTIFY the id of every committed message to the gateway.
create function supabase_shim.notify_realtime_message() returns trigger language plpgsql as $$
begin
  perform pg_notify('realtime_messages', new.id::text);
  return null;
end
$$;
create trigger supabase_shim_notify after insert on realtime.messages
  for each row execute function supabase_shim.notify_realtime_message();

-- Realtime's partition upkeep: partitions from yesterday to three days ahead (UTC days, created
-- if missing, owned by supabase_realtime_admin), partitions of days that ended more than 72 hours
-- before p_now dropped. Returns the partitions it created. Callable by the superuser only (the
-- shim and the dev gateway); Realtime does this from outside the database, never a project role.
create function supabase_shim.realtime_maintain_partitions(p_now timestamptz default now())
returns text[]
language plpgsql
set search_path = ''
as $$
declare
  v_today date := (p_now at time zone 'utc')::date;
  v_day date;
  v_name text;
  v_made text[] := '{}';
  v_old text;
begin
  for v_offset in -1..3 loop
    v_day := v_today + v_offset;
    v_name := 'messages_' || to_char(v_day, 'YYYY_MM_DD');
    if to_regclass('realtime.' || v_name) is null then
      begin
        execute format(
          'create table realtime.%I partition of realtime.messages for values from (%L) to (%L)',
          v_name, v_day::text, (v_day + 1)::text);
        execute format('alter table realtime.%I owner to supabase_realtime_admin', v_name);
        v_made := v_made || v_name;
      exception when duplicate_table then
        null; -- created concurrently
      end;
    end if;
  end loop;
  for v_old in
    select c.relname
    from pg_catalog.pg_inherits i
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'realtime.messages'::regclass
      and c.relname ~ '^messages_[0-9]{4}_[0-9]{2}_[0-9]{2}$'
      and to_date(substr(c.relname, 10), 'YYYY_MM_DD')
        < ((p_now at time zone 'utc') - interval '72 hours')::date
  loop
    execute format('drop table if exists realtime.%I', v_old);
  end loop;
  return v_made;
end
$$;
revoke all on function supabase_shim.realtime_maintain_partitions(timestamptz) from public;

select supabase_shim.realtime_maintain_partitions();
