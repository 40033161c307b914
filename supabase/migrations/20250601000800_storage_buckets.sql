-- Storage buckets and their policies (`supabase db push` does not apply config.toml's buckets).
--
-- videos: private. Results are written by the service (service role bypasses RLS) under
--   `<user_id>/<job_id>.mp4`; users may only read objects in their own folder (signed URLs are
--   created by the service or by the user's own client).
-- inputs: private, images only (png, jpeg, webp, gif), 10 MB per object. Users may upload, read,
--   replace and delete objects in their own folder `<user_id>/...` (start images for
--   image-to-video); the bucket's limits are enforced by the Storage API, and again by the
--   functions that use the image.

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('videos', 'videos', false, null, null),
  ('inputs', 'inputs', false, 10485760,
    array['image/png', 'image/jpeg', 'image/webp', 'image/gif'])
on conflict (id) do update
  set public = excluded.public,
    file_size_limit = excluded.file_size_limit,
    allowed_mime_types = excluded.allowed_mime_types;

create policy "users read their own videos" on storage.objects
  for select to authenticated
  using (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users read their own inputs" on storage.objects
  for select to authenticated
  using (bucket_id = 'inputs' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users upload to their own inputs folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'inputs' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users replace their own inputs" on storage.objects
  for update to authenticated
  using (bucket_id = 'inputs' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'inputs' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users delete their own inputs" on storage.objects
  for delete to authenticated
  using (bucket_id = 'inputs' and (storage.foldername(name))[1] = (select auth.uid())::text);
