-- Prompt templates: a prompt with named `{{VARIABLE}}` placeholders, the specs of those variables,
-- the model to run and an optional default start image (a path in the `inputs` bucket). Rows come
-- from supabase/seed.sql; everyone may read enabled templates; only the service writes.
--
-- `variables` is a JSON array of
--   {"name": "BRAND", "label": "Brand", "description": "...", "required": true,
--    "max_length": 40, "example": "Acme"}
-- and every placeholder in `prompt` names one of them.

create table public.templates (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]*$'),
  title text not null,
  description text not null default '',
  prompt text not null check (length(prompt) between 1 and 4000),
  variables jsonb not null default '[]'::jsonb check (jsonb_typeof(variables) = 'array'),
  model text not null references public.models (id) on update cascade,
  default_image_path text,
  enabled boolean not null default true,
  sort_order integer not null default 100,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.templates is 'Prompt templates with {{VARIABLE}} placeholders; readable by everyone.';
create index templates_model_idx on public.templates (model);

alter table public.templates enable row level security;
revoke insert, update, delete, truncate on public.templates from anon, authenticated;

create policy "anyone reads enabled templates" on public.templates
  for select to anon, authenticated
  using (enabled);
