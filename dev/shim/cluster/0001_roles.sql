-- Platform roles as hosted Supabase has them. `postgres` is NOT a superuser: it owns the
-- project's migrations, can create roles and databases, bypasses RLS, and is a member of the
-- API roles, exactly so that migrations that would fail on Supabase fail here too.
-- Cluster-wide; applied once by the bootstrap superuser `supabase_admin`.

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
create role supabase_auth_admin nologin noinherit createrole;
create role supabase_storage_admin nologin noinherit createrole;
create role supabase_realtime_admin nologin noinherit;
create role dashboard_user nologin;
create role postgres login createrole createdb replication bypassrls;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres with admin option;
grant supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin to postgres;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
