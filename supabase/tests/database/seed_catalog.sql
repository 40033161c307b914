-- The seeded catalog: the required fal endpoints, each with an input schema, a cost that
-- depends on duration where the model's price does, and valid templates.
begin;
select plan(9);

select results_eq(
  $$ select endpoint_id from public.models where endpoint_id in (
       'fal-ai/minimax/video-01', 'fal-ai/minimax/video-01/image-to-video',
       'fal-ai/ffmpeg-api/compose') order by 1 $$,
  $$ values ('fal-ai/ffmpeg-api/compose'::text), ('fal-ai/minimax/video-01'),
     ('fal-ai/minimax/video-01/image-to-video') $$,
  'MiniMax Video-01 (text and image to video) and FFmpeg compose are in the catalog');
select ok((select count(*) from public.models where endpoint_id like 'fal-ai/kling-video/%'
  and kind = 'video') >= 1, 'a Kling text-to-video model');
select ok((select count(*) from public.models where endpoint_id like 'fal-ai/veo%') >= 1,
  'a Veo-class model');
select ok((select count(*) from public.models where kind = 'image') >= 1, 'an image model');
select ok((select count(*) from public.models where kind = 'audio') >= 1, 'a text-to-speech model');
select is_empty(
  $$ select id from public.models where input_schema ->> 'type' <> 'object'
       or jsonb_typeof(input_schema -> 'properties') <> 'object'
       or not (input_schema -> 'required') ?| array['prompt', 'tracks'] $$,
  'every model has an object input schema requiring prompt (or tracks)');
select is_empty(
  $$ select id from public.models where accepts_image
       and not (input_schema -> 'properties') ? 'image_url' $$,
  'models that take a start image have an image_url input');
select ok(
  vidqueue.model_cost('kling-1.6-pro', 10) > vidqueue.model_cost('kling-1.6-pro', 5)
  and vidqueue.model_cost('kling-1.6-pro', 7) is null,
  'a per-second model costs more for longer videos and refuses durations it does not offer');
select is_empty(
  $$ select t.id, v.name from public.templates t
     cross join lateral (select m[1] as name from regexp_matches(t.prompt, '\{\{([A-Z_]+)\}\}', 'g') m) v
     where not exists (select 1 from jsonb_array_elements(t.variables) e where e ->> 'name' = v.name) $$,
  'every template placeholder has a variable spec');

select * from finish();
rollback;
