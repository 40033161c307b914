-- New users get free credits by a trigger on auth.users: free_credits_anon / free_credits_user
-- from settings (defaults 20 / 100 when unset); an anonymous user who becomes permanent is topped
-- up to the permanent amount once.
begin;
select plan(11);

delete from public.settings where key in ('free_credits_anon', 'free_credits_user');
insert into auth.users (id, email, is_anonymous) values
  ('a0000000-0000-4000-8000-000000000001', 'user@example.com', false),
  ('a0000000-0000-4000-8000-000000000002', null, true);
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000001'), 100,
  'a permanent user gets 100 credits by default');
select is((select available from public.credit_accounts
  where user_id = 'a0000000-0000-4000-8000-000000000002'), 20,
  'an anonymous user gets 20 credits by default');
select is((select external_id from public.credit_ledger
  where user_id = 'a0000000-0000-4000-8000-000000000001'),
  'signup:a0000000-0000-4000-8000-000000000001', 'the grant is keyed signup:<uid>');

insert into public.settings (key, value) values
  ('free_credits_anon', '3'), ('free_credits_user', '"250"');
insert into auth.users (id, email, is_anonymous) values
  ('b0000000-0000-4000-8000-000000000001', 'other@example.com', false),
  ('b0000000-0000-4000-8000-000000000002', null, true),
  ('b0000000-0000-4000-8000-000000000003', null, true);
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000001'), 250,
  'settings decide the amounts (a number given as a string works)');
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000002'), 3, 'for anonymous users too');

-- The anonymous user becomes permanent.
update auth.users set is_anonymous = false, email = 'now@example.com'
where id = 'b0000000-0000-4000-8000-000000000002';
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000002'), 250,
  'an upgraded user is topped up to the permanent amount');
select is((select amount from public.credit_ledger
  where external_id = 'upgrade:b0000000-0000-4000-8000-000000000002'), 247,
  'by the difference, keyed upgrade:<uid>');
update auth.users set is_anonymous = true where id = 'b0000000-0000-4000-8000-000000000002';
update auth.users set is_anonymous = false where id = 'b0000000-0000-4000-8000-000000000002';
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000002'), 250, 'only once');
update auth.users set email = 'again@example.com' where id = 'b0000000-0000-4000-8000-000000000003';
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000003'), 3,
  'other updates of an anonymous user grant nothing');

insert into public.settings (key, value) values ('free_credits_user', '0')
  on conflict (key) do update set value = excluded.value;
insert into auth.users (id, email) values ('c0000000-0000-4000-8000-000000000001', 'c@example.com');
select results_eq(
  $$ select available, reserved from public.credit_accounts
     where user_id = 'c0000000-0000-4000-8000-000000000001' $$,
  $$ values (0, 0) $$, 'with 0 free credits the user still gets an (empty) account');
update auth.users set is_anonymous = false where id = 'b0000000-0000-4000-8000-000000000003';
select is((select available from public.credit_accounts
  where user_id = 'b0000000-0000-4000-8000-000000000003'), 3,
  'no top-up when the permanent amount is not higher');

select * from finish();
rollback;
