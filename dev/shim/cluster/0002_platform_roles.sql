-- Role attributes, settings and memberships brought in line with hosted Supabase, after
-- 0001_roles.sql. Sources (supabase/postgres, migrations/db/): the API roles INHERIT
-- (20230529180330); authenticator's lock_timeout (20231130133139); supabase_auth_admin and
-- supabase_storage_admin are LOGIN NOINHERIT CREATEROLE with their schema as search_path
-- (init-scripts 00000000000001/2), storage admin is a member of authenticator
-- (20231013070755); postgres holds the API roles without ADMIN OPTION (20230201083204) and the
-- predefined pg_read_all_data, pg_signal_backend and pg_monitor (20240606060239, 20230306081037);
-- dashboard_user (00000000000003-post-setup). supabase_realtime_admin as Realtime's tenant schema
-- creates it (supabase/realtime priv/repo/tenant_db_dump_15.sql).
--
-- What stays different (docs/hosted-parity.md): postgres remains a member of
-- supabase_realtime_admin (hosted revokes it and lets postgres write policies on
-- realtime.messages through supautils' policy_grants, which this cluster does not have).
-- Cluster-wide; applied once per cluster, after 0001.

alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;

alter role authenticator set lock_timeout = '8s';

alter role supabase_auth_admin login noinherit createrole noreplication;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin login noinherit createrole noreplication;
alter role supabase_storage_admin set search_path = storage;
grant authenticator to supabase_storage_admin;

alter role supabase_realtime_admin nologin noinherit noreplication;
alter role supabase_realtime_admin set search_path = public, extensions, realtime;
grant anon, authenticated, service_role to supabase_realtime_admin;

alter role dashboard_user createdb createrole replication;

-- As on hosted: postgres may switch to the API roles but not hand them out.
revoke admin option for anon, authenticated, service_role from postgres;
grant pg_read_all_data, pg_signal_backend, pg_monitor to postgres;
