-- vault.create_secret() stores a secret that vault.decrypted_secrets gives back, encrypted at rest.
begin;
select plan(3);

select isnt(vault.create_secret('s3cr3t', 'project_url', 'test'), null, 'create_secret returns an id');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'project_url'), 's3cr3t',
  'decrypted_secrets returns the plaintext');
select isnt((select secret from vault.secrets where name = 'project_url'), 's3cr3t',
  'the stored secret is not plaintext');

select * from finish();
rollback;
