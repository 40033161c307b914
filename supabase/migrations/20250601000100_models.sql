-- The model catalog: which fal endpoints a job may use, what inputs they accept (a JSON schema of
-- fal's input), what they cost in credits and how long they usually take. Rows come from
-- supabase/seed.sql. Everyone (anon included) may read enabled models; only the service writes.
--
-- Credits: cost = cost_base + cost_per_second * duration, where duration is one of `durations`
-- (null when the model has no duration choice) or `default_duration`. vidqueue.model_cost()
-- computes it, so the TypeScript side and SQL agree.

create table public.models (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9._-]*$'),
  endpoint_id text not null,
  kind text not null check (kind in ('video', 'image', 'audio', 'compose')),
  title text not null,
  description text not null default '',
  input_schema jsonb not null default '{"type":"object"}'::jsonb
    check (jsonb_typeof(input_schema) = 'object'),
  cost_base integer not null default 0 check (cost_base >= 0),
  cost_per_second integer not null default 0 check (cost_per_second >= 0),
  durations integer[] check (durations is null or 0 < all (durations)),
  default_duration integer check (default_duration is null or default_duration > 0),
  aspect_ratios text[],
  default_aspect_ratio text,
  expected_seconds integer not null default 60 check (expected_seconds > 0),
  timeout_seconds integer not null default 900 check (timeout_seconds > 0),
  accepts_image boolean not null default false,
  enabled boolean not null default true,
  sort_order integer not null default 100,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (default_duration is null or durations is null or default_duration = any (durations)),
  check (default_aspect_ratio is null or aspect_ratios is null
    or default_aspect_ratio = any (aspect_ratios))
);
comment on table public.models is 'Model catalog (fal endpoints); readable by everyone.';

alter table public.models enable row level security;
revoke insert, update, delete, truncate on public.models from anon, authenticated;

create policy "anyone reads enabled models" on public.models
  for select to anon, authenticated
  using (enabled);

-- Credits for one run of p_model at p_duration seconds (the model's default when null); null when
-- the model is unknown or the duration is not one it offers.
create function vidqueue.model_cost(p_model text, p_duration integer default null)
returns integer
language sql
stable
set search_path = ''
as $$
  select m.cost_base + m.cost_per_second * coalesce(p_duration, m.default_duration, 0)
  from public.models m
  where m.id = p_model
    and (p_duration is null or m.durations is null or p_duration = any (m.durations))
$$;

revoke all on function vidqueue.model_cost(text, integer) from public;
grant execute on function vidqueue.model_cost(text, integer) to anon, authenticated, service_role;
