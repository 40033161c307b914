-- The production schedule: vidqueue.schedule_reconcile() creates a pg_cron job that POSTs to
-- <project_url>/functions/v1/reconcile-jobs with the `x-reconcile-secret` header, both read from
-- Vault at every run, and does nothing where pg_cron or pg_net is missing. pg_net is replaced
-- here by a stub that records the request (the local stack has no pg_net).
begin;
select plan(7);

select ok(pg_catalog.to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is null,
  'this database has no pg_net (and the migration applied)');
select is(vidqueue.schedule_reconcile(), false, 'without pg_net nothing is scheduled');

create schema net;
create table net.sent (url text, body jsonb, headers jsonb, timeout_milliseconds int);
create function net.http_post(
  url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint language sql as $$
  insert into net.sent values (url, body, headers, timeout_milliseconds) returning 1::bigint
$$;

select is(vidqueue.schedule_reconcile('* * * * *'),
  pg_catalog.to_regprocedure('cron.schedule(text,text,text)') is not null,
  'with pg_net (and pg_cron, where it is installed) the job is scheduled');

-- The remaining checks need pg_cron (present where cron.database_name points); cron's tables
-- are reached through dynamic SQL so this file also runs where it is absent.
create function pg_temp.has_cron() returns boolean language sql as $$
  select pg_catalog.to_regprocedure('cron.schedule(text,text,text)') is not null
$$;
create function pg_temp.cron_schedule() returns text language plpgsql as $$
declare
  v text;
begin
  execute $q$ select schedule from cron.job where jobname = 'vidqueue-reconcile-jobs' $q$ into v;
  return v;
end
$$;
create function pg_temp.run_job() returns void language plpgsql as $$
declare
  v text;
begin
  execute $q$ select command from cron.job where jobname = 'vidqueue-reconcile-jobs' $q$ into v;
  execute v;
end
$$;

select skip('pg_cron is not installed in this database', 4) where not pg_temp.has_cron();
select is(pg_temp.cron_schedule(), '* * * * *', 'on the schedule asked for')
  where pg_temp.has_cron();
select lives_ok('select pg_temp.run_job()', 'a run before the secrets exist is a no-op')
  where pg_temp.has_cron();
select vault.create_secret('https://abc.supabase.co', 'project_url') where pg_temp.has_cron();
select vault.create_secret('reconcile-secret-value-0123', 'reconcile_secret')
  where pg_temp.has_cron();
select pg_temp.run_job() where pg_temp.has_cron();
select results_eq(
  $$ select url, headers ->> 'x-reconcile-secret', body from net.sent $$,
  $$ values ('https://abc.supabase.co/functions/v1/reconcile-jobs'::text,
             'reconcile-secret-value-0123'::text, '{}'::jsonb) $$,
  'a run POSTs to the project''s reconcile-jobs with the secret from Vault')
  where pg_temp.has_cron();
select is((select count(*)::int from net.sent), 1, 'exactly once') where pg_temp.has_cron();

select * from finish();
rollback;
