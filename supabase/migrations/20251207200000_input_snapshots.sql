-- Start-image snapshots: what generate-video checked is what fal gets.
--
-- A start image is uploaded by the user to `inputs/<uid>/…`, which they may replace at any time
-- (their own folder is theirs to write). So generate-video first copies the image, with the
-- service key, to `inputs/<uid>/.snapshots/<random id>/<file name>`, checks the copy (type, size,
-- first bytes) and stores a reference to the copy in the job's input; the dispatcher signs that
-- reference when it submits. These policies make the `.snapshots` folder read-only for users:
-- they are RESTRICTIVE, so they hold whatever permissive policy grants writes to the owner's
-- folder (20250601000800_storage_buckets.sql), for upload, upsert, move, copy and delete alike.
-- Users may still read their own snapshots (the permissive read policy). The service role
-- bypasses RLS. (`is distinct from`: a name without a second folder has a NULL there, and a NULL
-- policy result would refuse everything.) A snapshot is removed when no job of the user refers to it any more
-- (vidqueue.job_delete_media, 20251207200200_shared_media.sql).

create policy "users never write input snapshots" on storage.objects
  as restrictive for insert to anon, authenticated
  with check (bucket_id <> 'inputs' or (storage.foldername(name))[2] is distinct from '.snapshots');

create policy "users never change input snapshots" on storage.objects
  as restrictive for update to anon, authenticated
  using (bucket_id <> 'inputs' or (storage.foldername(name))[2] is distinct from '.snapshots')
  with check (bucket_id <> 'inputs' or (storage.foldername(name))[2] is distinct from '.snapshots');

create policy "users never delete input snapshots" on storage.objects
  as restrictive for delete to anon, authenticated
  using (bucket_id <> 'inputs' or (storage.foldername(name))[2] is distinct from '.snapshots');
