-- A fresh project caps what all users together send to fal per UTC day (a script with many
-- accounts cannot spend without bound). Sign-up credits waiting for a confirmation are covered
-- by signup_confirmation.sql.
begin;
select plan(1);

select is((select cap from vidqueue.daily_cap_status()), 2000,
  'a fresh project has a daily credit cap of 2000');

select * from finish();
rollback;
