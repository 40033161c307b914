-- Permanent users get their sign-up credits once Auth confirms them (email or phone), once;
-- anonymous users at sign-up; `signup_credits_need_confirmation` = 0 grants at sign-up.
begin;
select plan(11);

delete from public.settings
where key in ('free_credits_anon', 'free_credits_user', 'signup_credits_need_confirmation');

create function pg_temp.available(p_user uuid) returns int language sql as $$
  select available from public.credit_accounts where user_id = p_user
$$;

-- Confirmations on (the default when the setting is absent).
insert into auth.users (id, email) values ('a0000000-0000-4000-8000-000000000001', 'a@example.com');
select is(pg_temp.available('a0000000-0000-4000-8000-000000000001'), 0,
  'an unconfirmed email sign-up gets an account but no credits');
update auth.users set email_confirmed_at = now()
where id = 'a0000000-0000-4000-8000-000000000001';
select is(pg_temp.available('a0000000-0000-4000-8000-000000000001'), 100,
  'confirming the email grants the sign-up credits');
select is((select external_id from public.credit_ledger
  where user_id = 'a0000000-0000-4000-8000-000000000001'),
  'signup:a0000000-0000-4000-8000-000000000001', 'as signup:<uid>');
update auth.users set email_confirmed_at = null where id = 'a0000000-0000-4000-8000-000000000001';
update auth.users set email_confirmed_at = now()
where id = 'a0000000-0000-4000-8000-000000000001';
select is(pg_temp.available('a0000000-0000-4000-8000-000000000001'), 100, 'only once');

-- What Auth does with confirmations off: insert, then confirm in the same transaction.
insert into auth.users (id, email) values ('a0000000-0000-4000-8000-000000000002', 'b@example.com');
update auth.users set email_confirmed_at = now()
where id = 'a0000000-0000-4000-8000-000000000002';
select is(pg_temp.available('a0000000-0000-4000-8000-000000000002'), 100,
  'an auto-confirmed sign-up gets its credits at once');
insert into auth.users (id, email, email_confirmed_at)
  values ('a0000000-0000-4000-8000-000000000003', 'c@example.com', now());
select is(pg_temp.available('a0000000-0000-4000-8000-000000000003'), 100,
  'so does a user created confirmed (OAuth, admin)');
insert into auth.users (id, phone) values ('a0000000-0000-4000-8000-000000000004', '15550001');
update auth.users set phone_confirmed_at = now()
where id = 'a0000000-0000-4000-8000-000000000004';
select is(pg_temp.available('a0000000-0000-4000-8000-000000000004'), 100,
  'a phone confirmation counts too');

-- Anonymous users: at sign-up; a confirmation while anonymous adds nothing; the upgrade tops up.
insert into auth.users (id, is_anonymous) values ('b0000000-0000-4000-8000-000000000001', true);
select is(pg_temp.available('b0000000-0000-4000-8000-000000000001'), 20,
  'an anonymous user gets the anonymous credits at sign-up');
update auth.users set email = 'n@example.com', email_confirmed_at = now()
where id = 'b0000000-0000-4000-8000-000000000001';
update auth.users set is_anonymous = false where id = 'b0000000-0000-4000-8000-000000000001';
select is(pg_temp.available('b0000000-0000-4000-8000-000000000001'), 100,
  'verified and made permanent: topped up to the permanent amount, once');

-- Auth that does not confirm users.
insert into public.settings (key, value) values ('signup_credits_need_confirmation', '0');
insert into auth.users (id, email) values ('c0000000-0000-4000-8000-000000000001', 'd@example.com');
select is(pg_temp.available('c0000000-0000-4000-8000-000000000001'), 100,
  'with signup_credits_need_confirmation 0 the credits come at sign-up');
update auth.users set email_confirmed_at = now()
where id = 'c0000000-0000-4000-8000-000000000001';
select is(pg_temp.available('c0000000-0000-4000-8000-000000000001'), 100,
  'and a later confirmation adds nothing');

select * from finish();
rollback;
