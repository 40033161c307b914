-- A minimal `vault`: enough for cron migrations to read a project URL or secret with
-- vault.decrypted_secrets. Dev-only; secrets are kept encrypted with pgcrypto under a key that
-- lives in the cluster's own settings table (hosted Vault uses pgsodium/libsodium instead).
create schema vault;

create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table vault.settings (key bytea not null);
insert into vault.settings (key) values (extensions.gen_random_bytes(32));
revoke all on vault.settings from public;

create function vault._key() returns text language sql stable security definer set search_path = '' as $$
  select encode(key, 'hex') from vault.settings limit 1
$$;

create function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '',
  new_key_id uuid default null
) returns uuid language plpgsql security definer set search_path = '' as $$
declare
  rec_id uuid;
begin
  insert into vault.secrets (secret, name, description, key_id)
  values (
    encode(extensions.pgp_sym_encrypt(new_secret, vault._key()), 'base64'),
    new_name, coalesce(new_description, ''), new_key_id)
  returning id into rec_id;
  return rec_id;
end
$$;

create function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void language plpgsql security definer set search_path = '' as $$
begin
  update vault.secrets set
    secret = coalesce(encode(extensions.pgp_sym_encrypt(new_secret, vault._key()), 'base64'), secret),
    name = coalesce(new_name, name),
    description = coalesce(new_description, description),
    key_id = coalesce(new_key_id, key_id),
    updated_at = now()
  where id = secret_id;
end
$$;

create view vault.decrypted_secrets with (security_barrier) as
  select s.id, s.name, s.description, s.secret,
    extensions.pgp_sym_decrypt(decode(s.secret, 'base64'), vault._key()) as decrypted_secret,
    s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;

revoke all on function vault._key() from public;
grant execute on function vault._key() to postgres, service_role;
grant usage on schema vault to postgres, service_role;
grant select, insert, update, delete on vault.secrets to postgres, service_role;
grant select on vault.decrypted_secrets to postgres, service_role;
grant execute on function vault.create_secret(text, text, text, uuid) to postgres, service_role;
grant execute on function vault.update_secret(uuid, text, text, text, uuid) to postgres, service_role;
