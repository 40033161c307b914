-- Schema `realtime`: the messages table that Broadcast from Database writes to and private
-- channels authorise against, realtime.topic(), realtime.send() and
-- realtime.broadcast_changes() with Supabase's signatures and behaviour. The dev gateway learns
-- of a new message by NOTIFY of its id on channel `realtime_messages` (payloads stay in the table,
-- because NOTIFY payloads are limited to 8000 bytes).
create schema realtime authorization supabase_realtime_admin;
set role supabase_realtime_admin;

create table realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  primary key (id)
);
create index messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;
alter table realtime.messages enable row level security;

create function realtime.topic() returns text language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void language plpgsql security definer set search_path = '' as $$
declare
  generated_id uuid := gen_random_uuid();
  final_payload jsonb;
begin
  begin
    if payload ? 'id' then
      final_payload := payload;
    else
      final_payload := payload || jsonb_build_object('id', generated_id);
    end if;
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

create function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW'
) returns void language plpgsql security definer set search_path = '' as $$
declare
  row_data jsonb := '{}'::jsonb;
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation = 'INSERT' or operation = 'UPDATE' or operation = 'DELETE' then
    row_data := jsonb_build_object(
      'old_record', old, 'record', new, 'operation', operation,
      'table', table_name, 'schema', table_schema);
    perform realtime.send(row_data, event_name, topic_name);
  else
    raise exception 'Unexpected operation type: %', operation;
  end if;
end
$$;

create function realtime.notify_message() returns trigger language plpgsql as $$
begin
  perform pg_notify('realtime_messages', new.id::text);
  return null;
end
$$;

create trigger notify_message after insert on realtime.messages
  for each row execute function realtime.notify_message();

reset role;

grant usage on schema realtime to anon, authenticated, service_role, postgres;
grant select, insert, update on realtime.messages to anon, authenticated, service_role, postgres;
grant all on realtime.messages to postgres;
grant execute on all functions in schema realtime to anon, authenticated, service_role, postgres;
