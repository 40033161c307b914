-- A batch reserves the credits of all its items or of none: with too few credits it raises VQ402
-- and writes nothing (no parent, no child, no ledger row); with enough, every child is queued
-- with its own reservation, and a replay of the same request creates nothing more.
begin;
select plan(12);

insert into public.settings (key, value) values ('free_credits_user', '25')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');
insert into public.models (id, endpoint_id, kind, title, expected_seconds) values
  ('t-video', 'fal-ai/test/video', 'video', 'Test video', 100),
  ('t-off', 'fal-ai/test/off', 'video', 'Disabled', 60);
update public.models set enabled = false where id = 't-off';

create function pg_temp.items(p_n int, p_model text default 't-video') returns jsonb
language sql as $$
  select jsonb_agg(jsonb_build_object('kind', 'video', 'model', p_model,
    'input', jsonb_build_object('prompt', 'item ' || i), 'cost', 10, 'item', i) order by i)
  from generate_series(1, p_n) i
$$;
create function pg_temp.error_detail(p_sql text) returns text language plpgsql as $$
declare
  v_detail text;
begin
  execute p_sql;
  return 'no error';
exception when others then
  get stacked diagnostics v_detail = pg_exception_detail;
  return v_detail;
end
$$;

select throws_ok(
  $$ select * from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'batch',
       '{"prompt":"three"}', pg_temp.items(3), 0, 'k3', 'h3') $$,
  'VQ402', null, 'three items of 10 with 25 credits raise VQ402');
select is(
  pg_temp.error_detail($$ select * from vidqueue.parent_create(
    'a0000000-0000-4000-8000-000000000001', 'batch', '{}', pg_temp.items(3), 0, null, null) $$),
  '25', 'the DETAIL is the available credits');
select is((select count(*)::int from public.jobs), 0, 'no parent and no child were written');
select is((select count(*)::int from public.credit_ledger where kind <> 'grant'), 0,
  'no ledger row was written');
select results_eq(
  $$ select available, reserved from public.credit_accounts $$, $$ values (25, 0) $$,
  'the balance is untouched');
select throws_ok(
  $$ select * from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'batch', '{}',
       pg_temp.items(1) || pg_temp.items(1, 't-off'), 0, null, null) $$,
  'VQ404', null, 'one item on a disabled model refuses the whole batch');

select (c.job).id as parent, c.replayed as replayed
from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'batch',
  '{"prompt":"two"}', pg_temp.items(2), 0, 'k2', 'h2') c \gset
select is(:'replayed'::boolean, false, 'two items fit: created');
select results_eq(
  format($$ select item, status, cost, input ->> 'prompt', expected_seconds from public.jobs
            where parent_id = %L order by item $$, :'parent'),
  $$ values (1, 'queued'::text, 10, 'item 1'::text, 100), (2, 'queued', 10, 'item 2', 100) $$,
  'each item is a queued child with its cost, number and model''s expected seconds');
select results_eq(
  format($$ select l.kind, l.amount from public.credit_ledger l
            join public.jobs j on j.id = l.job_id where j.parent_id = %L $$, :'parent'),
  $$ values ('reserve'::text, 10), ('reserve'::text, 10) $$,
  'each child has its own reservation');
select results_eq(
  $$ select available, reserved from public.credit_accounts $$, $$ values (5, 20) $$,
  'the whole batch moved from available to reserved');
select results_eq(
  format($$ select kind, status, cost, model is null from public.jobs where id = %L $$, :'parent'),
  $$ values ('batch'::text, 'queued'::text, 20, true) $$,
  'the parent is a queued batch without model whose cost is its items''');

select (c.job).id as again, c.replayed as replayed_again
from vidqueue.parent_create('a0000000-0000-4000-8000-000000000001', 'batch',
  '{"prompt":"two"}', pg_temp.items(2), 0, 'k2', 'h2') c \gset
select ok(:'replayed_again'::boolean and :'again'::uuid = :'parent'::uuid
  and (select count(*) from public.jobs) = 3,
  'the same key and request replay the parent and create nothing');

select * from finish();
rollback;
