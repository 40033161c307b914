-- Least privilege, read from the catalog: on Vidqueue's objects (schema vidqueue, every table,
-- view, sequence and function in public and vidqueue, and their columns) no role but their
-- owner `postgres` and `vidqueue_reader` holds any privilege, PUBLIC included; what the reader
-- holds is pinned below as data; every policy on them is for vidqueue_reader. (Realtime and
-- Storage need nothing on Vidqueue's objects: their policies live on realtime.messages and
-- storage.objects.) A migration that adds an object without `revoke all ... from anon,
-- authenticated, service_role` (and `from public` for a function), or grants more than this,
-- fails here.
begin;
select plan(6);

create temp table vq_privileges as
with objects as (
  select 'schema'::text as kind, n.nspname::text as name, n.nspowner as owner,
    coalesce(n.nspacl, acldefault('n', n.nspowner)) as acl
  from pg_namespace n where n.nspname = 'vidqueue'
  union all
  select case c.relkind when 'S' then 'sequence' when 'v' then 'view' else 'table' end,
    format('%I.%I', ns.nspname, c.relname), c.relowner,
    coalesce(c.relacl, acldefault(case c.relkind when 'S' then 's'::"char" else 'r'::"char" end,
      c.relowner))
  from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
  where ns.nspname in ('public', 'vidqueue') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
  union all
  select 'column', format('%I.%I.%I', ns.nspname, c.relname, a.attname), c.relowner, a.attacl
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_namespace ns on ns.oid = c.relnamespace
  where ns.nspname in ('public', 'vidqueue') and a.attnum > 0 and not a.attisdropped
    and a.attacl is not null
  union all
  select 'function', p.oid::regprocedure::text, p.proowner,
    coalesce(p.proacl, acldefault('f', p.proowner))
  from pg_proc p where p.pronamespace in ('public'::regnamespace, 'vidqueue'::regnamespace)
)
select o.kind, o.name, o.owner::regrole::text as owner,
  case when x.grantee = 0 then 'PUBLIC' else x.grantee::regrole::text end as grantee,
  x.privilege_type
from objects o, aclexplode(o.acl) x;
grant select on vq_privileges to public;

select cmp_ok((select count(distinct name)::int from vq_privileges where kind = 'function'), '>=',
  50, 'the catalog query sees the functions');
select is_empty(
  $$ select distinct kind, name, owner from vq_privileges where owner <> 'postgres' $$,
  'every Vidqueue object belongs to postgres');
select is_empty(
  $$ select kind, name, grantee, privilege_type from vq_privileges
     where grantee not in ('postgres', 'vidqueue_reader') order by 1, 2, 3, 4 $$,
  'no role but postgres and vidqueue_reader holds a privilege on a Vidqueue object');
select set_eq(
  $$ select kind, name, privilege_type from vq_privileges where grantee = 'vidqueue_reader' $$,
  $$ values
    ('schema', 'vidqueue', 'USAGE'),
    ('table', 'public.jobs', 'SELECT'),
    ('column', 'public.job_events.id', 'SELECT'),
    ('column', 'public.job_events.job_id', 'SELECT'),
    ('column', 'public.job_events.kind', 'SELECT'),
    ('column', 'public.job_events.from_status', 'SELECT'),
    ('column', 'public.job_events.to_status', 'SELECT'),
    ('column', 'public.job_events.detail', 'SELECT'),
    ('column', 'public.job_events.created_at', 'SELECT'),
    ('column', 'public.credit_accounts.user_id', 'SELECT'),
    ('column', 'public.credit_accounts.available', 'SELECT'),
    ('column', 'public.credit_accounts.reserved', 'SELECT'),
    ('function', 'vidqueue.uid()', 'EXECUTE'),
    ('function', 'vidqueue.is_admin()', 'EXECUTE'),
    ('function', 'vidqueue.job_public(jobs)', 'EXECUTE'),
    ('function', 'vidqueue.job_progress(jobs)', 'EXECUTE'),
    ('function', 'vidqueue.queue_position(uuid,integer,timestamp with time zone)', 'EXECUTE')
  $$,
  'vidqueue_reader holds exactly what the functions'' reads need');
select is_empty(
  $$ select schemaname, tablename, policyname, roles from pg_policies
     where schemaname in ('public', 'vidqueue') and roles <> array['vidqueue_reader']::name[] $$,
  'every policy on a Vidqueue table is for vidqueue_reader');
select is_empty(
  $$ select r.rolname from pg_roles r
     where pg_has_role(r.oid, 'vidqueue_reader', 'member') and not r.rolsuper
       and r.rolname not in ('postgres', 'vidqueue_reader')
     union all
     select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
     where m.member = 'vidqueue_reader'::regrole $$,
  'only postgres may become vidqueue_reader, and it is a member of no role');

select * from finish();
rollback;
