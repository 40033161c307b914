-- Sign-up credits for permanent users only once they are confirmed.
--
-- Every email sign-up got free_credits_user at once, so a script signing up throw-away addresses
-- collected credits without ever reading a mail. Now a permanent user's `signup:<uid>` grant is
-- made when Supabase Auth confirms them (email_confirmed_at or phone_confirmed_at set): at sign-up
-- when confirmations are off (Auth confirms in the sign-up transaction), after the link or code
-- when they are on. Anonymous users still get free_credits_anon at sign-up (limit those with
-- CAPTCHA and sign-in rate limits), and an anonymous user who becomes permanent is still topped
-- up once (Auth makes them permanent only after verifying the new identity).
--
-- Setting (public.settings) `signup_credits_need_confirmation`: 1 (the default when absent) as
-- above; 0 grants at sign-up even when unconfirmed, for a project whose Auth does not confirm
-- users (the dev stack writes it from supabase/config.toml `[auth.email] enable_confirmations`).
--
--   vidqueue.on_auth_user_created()  replaced: on insert, permanent users get credits only when
--                                    confirmed (or when the setting is 0); it is also the
--                                    function of the new trigger vidqueue_credits_on_confirm, the
--                                    grant when a permanent user is first confirmed (idempotent:
--                                    signup:<uid>). One SECURITY DEFINER function for both, since
--                                    Auth's own role writes auth.users.

create or replace function vidqueue.on_auth_user_created()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_amount integer;
begin
  if tg_op = 'INSERT' then
    insert into public.credit_accounts (user_id) values (new.id) on conflict (user_id) do nothing;
  end if;
  if coalesce(new.is_anonymous, false) then
    -- Confirming an anonymous user's new email adds nothing: the upgrade tops up.
    if tg_op <> 'INSERT' then
      return null;
    end if;
    v_amount := vidqueue.setting_int('free_credits_anon', 20);
  elsif tg_op <> 'INSERT' or coalesce(new.email_confirmed_at, new.phone_confirmed_at) is not null
    or vidqueue.setting_int('signup_credits_need_confirmation', 1) = 0 then
    v_amount := vidqueue.setting_int('free_credits_user', 100);
  else
    -- Granted by the confirm trigger once Auth confirms the user.
    return null;
  end if;
  if v_amount > 0 then
    perform vidqueue.grant_credits(new.id, v_amount, 'signup', 'signup:' || new.id::text);
  end if;
  return null;
end
$$;

revoke all on function vidqueue.on_auth_user_created() from public, anon, authenticated, service_role;

create trigger vidqueue_credits_on_confirm
  after update of email_confirmed_at, phone_confirmed_at on auth.users
  for each row
  when (old.email_confirmed_at is null and old.phone_confirmed_at is null
    and (new.email_confirmed_at is not null or new.phone_confirmed_at is not null)
    and not coalesce(new.is_anonymous, false))
  execute function vidqueue.on_auth_user_created();
