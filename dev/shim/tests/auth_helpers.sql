-- auth.uid(), auth.role(), auth.jwt() and auth.email() read the claims PostgREST/Realtime set.
begin;
select plan(7);

select is(auth.uid(), null, 'auth.uid() is null without claims');

select set_config('request.jwt.claims',
  '{"sub":"11111111-1111-1111-1111-111111111111","role":"authenticated","email":"a@example.com","app_metadata":{"plan":"pro"}}',
  true);
select is(auth.uid(), '11111111-1111-1111-1111-111111111111'::uuid, 'auth.uid() reads sub');
select is(auth.role(), 'authenticated', 'auth.role() reads role');
select is(auth.email(), 'a@example.com', 'auth.email() reads email');
select is(auth.jwt() -> 'app_metadata' ->> 'plan', 'pro', 'auth.jwt() returns all claims');

select set_config('request.jwt.claim.sub', '22222222-2222-2222-2222-222222222222', true);
select is(auth.uid(), '22222222-2222-2222-2222-222222222222'::uuid,
  'auth.uid() prefers the legacy per-claim setting');

select ok(
  (select not rolsuper from pg_roles where rolname = 'postgres'),
  'postgres is not a superuser, as on hosted Supabase');

select * from finish();
rollback;
