-- The seeded templates are usable: every {{PLACEHOLDER}} of a prompt is a declared variable and
-- every declared variable is used, variable specs are well formed, the model is an enabled video
-- model; the catalog is served by the functions (the Data API shows no template, so a template's
-- hidden prompt never leaks) and nobody but the service may change templates.
begin;
select plan(8);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');

select cmp_ok((select count(*)::int from public.templates where enabled), '>=', 3,
  'a few templates are seeded');
select is_empty(
  $$ select t.id, m[1] from public.templates t,
       regexp_matches(t.prompt, '\{\{\s*([A-Za-z0-9_]+)\s*\}\}', 'g') m
     where not exists (select 1 from jsonb_array_elements(t.variables) v where v ->> 'name' = m[1]) $$,
  'every placeholder is a declared variable');
select is_empty(
  $$ select t.id, v ->> 'name' from public.templates t, jsonb_array_elements(t.variables) v
     where position('{{' || (v ->> 'name') || '}}' in t.prompt) = 0 $$,
  'every declared variable is used');
select is_empty(
  $$ select t.id, v from public.templates t, jsonb_array_elements(t.variables) v
     where not (v ->> 'name' ~ '^[A-Z][A-Z0-9_]{0,39}$'
       and jsonb_typeof(v -> 'required') = 'boolean'
       and jsonb_typeof(v -> 'max_length') = 'number' and (v ->> 'max_length')::int between 1 and 500
       and (v -> 'default' is null or length(v ->> 'default') <= (v ->> 'max_length')::int)) $$,
  'variable specs have a name, required flag and a length limit that fits their default');
select is_empty(
  $$ select t.id from public.templates t left join public.models m on m.id = t.model
     where t.enabled and (m.id is null or not m.enabled or m.kind <> 'video') $$,
  'every enabled template runs on an enabled video model');
select isnt_empty(
  $$ select 1 from public.templates t join public.models m on m.id = t.model
     where t.enabled and m.accepts_image $$,
  'at least one template animates a start image');

insert into public.templates (id, title, prompt, model, enabled)
  values ('t-hidden', 'Hidden', 'secret', 'minimax-video-01', false);
set local role anon;
select throws_ok($$ select count(*) from public.templates $$, '42501', null,
  'anon cannot read templates, not even the enabled ones');
reset role;
set local role authenticated;
select throws_ok($$ update public.templates set prompt = 'hacked' $$, '42501', null,
  'users cannot change templates');
reset role;

select * from finish();
rollback;
