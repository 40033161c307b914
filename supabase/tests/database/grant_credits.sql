-- grant_credits is idempotent on external_id: the first call grants (true), repeats change
-- nothing (false); it creates the account when missing and rejects nonsense.
begin;
select plan(10);

insert into public.settings (key, value) values ('free_credits_user', '0')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner@example.com');

select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 0,
  'with free credits set to 0 the account starts empty');
select is(vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 50, 'purchase', 'stripe:pi_1'),
  true, 'the first grant for an external id grants');
select is(vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 50, 'purchase', 'stripe:pi_1'),
  false, 'the same external id again grants nothing');
select is(vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 999, 'other', 'stripe:pi_1'),
  false, 'even with another amount');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 50, 'credited once');
select results_eq(
  $$ select kind, amount, reason, external_id from public.credit_ledger
     where user_id = 'a0000000-0000-4000-8000-000000000001' $$,
  $$ values ('grant'::text, 50, 'purchase'::text, 'stripe:pi_1'::text) $$,
  'one grant row in the ledger');

delete from public.credit_accounts where user_id = 'a0000000-0000-4000-8000-000000000001';
select is(vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 7, 'gift', 'gift:1'),
  true, 'a grant without an account');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 7, 'creates the account');

select throws_ok(
  $$ select vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 0, 'zero', 'z:1') $$,
  'VQ400', null, 'a zero grant is refused');
select throws_ok(
  $$ select vidqueue.grant_credits('a0000000-0000-4000-8000-000000000001', 5, 'anon', null) $$,
  'VQ400', null, 'a grant needs an external id');

select * from finish();
rollback;
