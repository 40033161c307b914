-- storage.foldername(), storage.filename() and storage.extension() split object paths the way
-- storage policies use them.
begin;
select plan(6);

select is(storage.foldername('u1/sub/clip.mp4'), array['u1', 'sub'], 'foldername lists folders');
select is((storage.foldername('u1/clip.mp4'))[1], 'u1', 'first folder is the owner folder');
select is(storage.foldername('clip.mp4'), '{}'::text[], 'no folders for a top-level object');
select is(storage.filename('u1/sub/clip.mp4'), 'clip.mp4', 'filename is the last segment');
select is(storage.extension('u1/clip.final.mp4'), 'mp4', 'extension is after the last dot');

insert into storage.buckets (id, name, file_size_limit, allowed_mime_types)
  values ('shim_test', 'shim_test', 1024, array['image/png']);
select is((select file_size_limit from storage.buckets where id = 'shim_test'), 1024::bigint,
  'buckets carry a size limit');

select * from finish();
rollback;
