-- A daily credit cap by default.
--
-- Without a `daily_credit_cap` row nothing bounds what all users together send to fal in a day
-- (20250602000100_daily_credit_cap.sql), so a script with many accounts could spend without
-- limit. Projects now start with a cap of 2000 credits per UTC day: about US$100 of fal list
-- price (1 credit ~ US$0.05, supabase/seed.sql), the free credits of 20 new permanent users or
-- 200 MiniMax videos; past it, jobs wait queued with their reservations until the next UTC day.
-- An operator raises it (`update public.settings set value = '10000' where key =
-- 'daily_credit_cap'`) or removes the cap by deleting the row. A row set before is kept.

insert into public.settings (key, value) values ('daily_credit_cap', '2000')
on conflict (key) do nothing;
