-- Production schedule of the reconciler: pg_cron calls the `reconcile-jobs` Edge Function through
-- pg_net every 30 seconds. The project URL and the shared secret are read from Vault at every run
-- (so rotating them needs no migration):
--
--   select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');
--   select vault.create_secret('<the RECONCILE_SECRET of the functions>', 'reconcile_secret');
--
-- Until both secrets exist each run is a no-op. The function compares the `x-reconcile-secret`
-- header with its RECONCILE_SECRET in constant time.
--
-- Guarded: the schedule is created only where both pg_cron and pg_net are installed (hosted
-- Supabase; enable them under Database > Extensions, or let this migration try). Elsewhere (the
-- local stack has pg_cron but no pg_net, and uses a timer that calls the function instead) the
-- migration applies and does nothing; run `select vidqueue.schedule_reconcile()` after
-- installing the extensions later.
--
--   vidqueue.schedule_reconcile(p_interval text default '30 seconds') returns boolean
--     (Re)creates the cron job `vidqueue-reconcile-jobs` with that pg_cron schedule ('30 seconds'
--     or a cron expression); false (and nothing done) when pg_cron or pg_net is missing.

create function vidqueue.schedule_reconcile(p_interval text default '30 seconds')
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_command text := $cmd$
    select net.http_post(
      url := (select s.decrypted_secret from vault.decrypted_secrets s
              where s.name = 'project_url' limit 1) || '/functions/v1/reconcile-jobs',
      body := '{}'::jsonb,
      headers := jsonb_build_object(
        'content-type', 'application/json',
        'x-reconcile-secret', (select s.decrypted_secret from vault.decrypted_secrets s
                               where s.name = 'reconcile_secret' limit 1)),
      timeout_milliseconds := 60000)
    where exists (select 1 from vault.decrypted_secrets s where s.name = 'project_url')
      and exists (select 1 from vault.decrypted_secrets s where s.name = 'reconcile_secret')
  $cmd$;
begin
  -- What the schedule calls must exist: pg_cron's scheduler and pg_net's request function.
  if pg_catalog.to_regprocedure('cron.schedule(text,text,text)') is null
     or pg_catalog.to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null then
    return false;
  end if;
  -- Dynamic SQL: the cron schema only exists where pg_cron does.
  execute 'select cron.schedule($1, $2, $3)'
    using 'vidqueue-reconcile-jobs', coalesce(p_interval, '30 seconds'), v_command;
  return true;
end
$$;

revoke all on function vidqueue.schedule_reconcile(text)
  from public, anon, authenticated, service_role;

do $$
begin
  -- Hosted Supabase lets the project owner create both; elsewhere they may be unavailable.
  if exists (select 1 from pg_catalog.pg_available_extensions a where a.name = 'pg_net') then
    begin
      create extension if not exists pg_net with schema extensions;
    exception when others then
      raise notice 'vidqueue: pg_net not installed (%); reconcile-jobs is not scheduled', sqlerrm;
    end;
  end if;
  if exists (select 1 from pg_catalog.pg_available_extensions a where a.name = 'pg_cron')
     and pg_catalog.to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is not null
  then
    begin
      create extension if not exists pg_cron;
    exception when others then
      raise notice 'vidqueue: pg_cron not installed (%); reconcile-jobs is not scheduled', sqlerrm;
    end;
  end if;
  begin
    if vidqueue.schedule_reconcile('30 seconds') then
      raise notice 'vidqueue: reconcile-jobs scheduled every 30 seconds';
    end if;
  exception when others then
    -- pg_cron before 1.5 has no seconds schedules: every minute instead.
    if vidqueue.schedule_reconcile('* * * * *') then
      raise notice 'vidqueue: reconcile-jobs scheduled every minute';
    end if;
  end;
end
$$;
