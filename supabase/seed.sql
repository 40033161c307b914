-- The model catalog and a few templates. Applied by `supabase db push --include-seed` (and by the
-- dev stack); written as upserts so it can run again.
--
-- Endpoint ids and input fields are fal's (https://fal.ai/models/<endpoint_id>/llms.txt);
-- `input_schema` is a JSON schema of the fal input we send. Credits: 1 credit ~ US$0.05 of fal
-- list price, rounded up (MiniMax Video-01 $0.50/video -> 10; Kling 1.6 pro $0.098/s -> 2/s;
-- Veo 3 Fast with audio $0.15/s -> 3/s; FLUX.1 [schnell], Kokoro and FFmpeg compose cost cents
-- -> 1). expected_seconds are typical fal run times; timeout_seconds is when the reconciler
-- gives up on a job at fal.

insert into public.models (
  id, endpoint_id, kind, title, description, input_schema, cost_base, cost_per_second,
  durations, default_duration, aspect_ratios, default_aspect_ratio, expected_seconds,
  timeout_seconds, accepts_image, enabled, sort_order
) values
(
  'minimax-video-01', 'fal-ai/minimax/video-01', 'video',
  'MiniMax Video-01',
  'Text to video: 6 s, 720p, 25 fps, cinematic camera movement.',
  '{
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
      "prompt_optimizer": {"type": "boolean", "default": true}
    }
  }'::jsonb,
  10, 0, array[6], 6, null, null, 180, 900, false, true, 10
),
(
  'minimax-video-01-i2v', 'fal-ai/minimax/video-01/image-to-video', 'video',
  'MiniMax Video-01 (image to video)',
  'Animates a start image: 6 s, 720p; the image is the first frame.',
  '{
    "type": "object",
    "required": ["prompt", "image_url"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
      "image_url": {"type": "string", "format": "uri"},
      "prompt_optimizer": {"type": "boolean", "default": true}
    }
  }'::jsonb,
  10, 0, array[6], 6, null, null, 120, 900, true, true, 20
),
(
  'kling-1.6-pro', 'fal-ai/kling-video/v1.6/pro/text-to-video', 'video',
  'Kling 1.6 Pro',
  'Text to video, 5 or 10 s, 1080p, three aspect ratios.',
  '{
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 2500},
      "duration": {"type": "string", "enum": ["5", "10"], "default": "5"},
      "aspect_ratio": {"type": "string", "enum": ["16:9", "9:16", "1:1"], "default": "16:9"},
      "negative_prompt": {"type": "string", "maxLength": 2500,
        "default": "blur, distort, and low quality"},
      "cfg_scale": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}
    }
  }'::jsonb,
  0, 2, array[5, 10], 5, array['16:9', '9:16', '1:1'], '16:9', 240, 1200, false, true, 30
),
(
  'veo3-fast', 'fal-ai/veo3/fast', 'video',
  'Veo 3 Fast',
  'Google Veo 3, faster and cheaper: 4-8 s with generated audio.',
  '{
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 4000},
      "aspect_ratio": {"type": "string", "enum": ["16:9", "9:16"], "default": "16:9"},
      "duration": {"type": "string", "enum": ["4s", "6s", "8s"], "default": "8s"},
      "negative_prompt": {"type": "string", "maxLength": 2000},
      "enhance_prompt": {"type": "boolean", "default": true},
      "generate_audio": {"type": "boolean", "default": true},
      "resolution": {"type": "string", "enum": ["720p", "1080p"], "default": "720p"},
      "seed": {"type": "integer", "minimum": 0}
    }
  }'::jsonb,
  0, 3, array[4, 6, 8], 8, array['16:9', '9:16'], '16:9', 90, 600, false, true, 40
),
(
  'flux-schnell', 'fal-ai/flux/schnell', 'image',
  'FLUX.1 [schnell]',
  'Fast text to image (1-4 steps); scene images for stories.',
  '{
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 2000},
      "image_size": {
        "default": "landscape_4_3",
        "oneOf": [
          {"type": "string", "enum": ["square_hd", "square", "portrait_4_3", "portrait_16_9",
            "landscape_4_3", "landscape_16_9"]},
          {"type": "object", "required": ["width", "height"], "additionalProperties": false,
            "properties": {"width": {"type": "integer", "minimum": 64, "maximum": 2048},
              "height": {"type": "integer", "minimum": 64, "maximum": 2048}}}
        ]
      },
      "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 12, "default": 4},
      "num_images": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1},
      "seed": {"type": "integer", "minimum": 0},
      "enable_safety_checker": {"type": "boolean", "default": true}
    }
  }'::jsonb,
  1, 0, null, null, null, null, 5, 120, false, true, 50
),
(
  'kokoro-tts', 'fal-ai/kokoro/american-english', 'audio',
  'Kokoro TTS (American English)',
  'Lightweight text to speech; narration for stories.',
  '{
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": false,
    "properties": {
      "prompt": {"type": "string", "minLength": 1, "maxLength": 5000},
      "voice": {"type": "string", "default": "af_heart", "enum": ["af_heart", "af_alloy",
        "af_aoede", "af_bella", "af_jessica", "af_kore", "af_nicole", "af_nova", "af_river",
        "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam",
        "am_michael", "am_onyx", "am_puck", "am_santa"]},
      "speed": {"type": "number", "minimum": 0.1, "maximum": 5, "default": 1}
    }
  }'::jsonb,
  1, 0, null, null, null, null, 10, 120, false, true, 60
),
(
  'ffmpeg-compose', 'fal-ai/ffmpeg-api/compose', 'compose',
  'FFmpeg compose',
  'Joins image/video and audio tracks into one video (story assembly).',
  '{
    "type": "object",
    "required": ["tracks"],
    "additionalProperties": false,
    "properties": {
      "tracks": {
        "type": "array", "minItems": 1,
        "items": {
          "type": "object",
          "required": ["id", "type", "keyframes"],
          "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": ["video", "audio"]},
            "keyframes": {
              "type": "array", "minItems": 1,
              "items": {
                "type": "object",
                "required": ["url"],
                "properties": {
                  "url": {"type": "string", "format": "uri"},
                  "timestamp": {"type": "number", "minimum": 0},
                  "duration": {"type": "number", "minimum": 0}
                }
              }
            }
          }
        }
      }
    }
  }'::jsonb,
  1, 0, null, null, null, null, 30, 600, false, true, 70
)
on conflict (id) do update set
  endpoint_id = excluded.endpoint_id,
  kind = excluded.kind,
  title = excluded.title,
  description = excluded.description,
  input_schema = excluded.input_schema,
  cost_base = excluded.cost_base,
  cost_per_second = excluded.cost_per_second,
  durations = excluded.durations,
  default_duration = excluded.default_duration,
  aspect_ratios = excluded.aspect_ratios,
  default_aspect_ratio = excluded.default_aspect_ratio,
  expected_seconds = excluded.expected_seconds,
  timeout_seconds = excluded.timeout_seconds,
  accepts_image = excluded.accepts_image,
  enabled = excluded.enabled,
  sort_order = excluded.sort_order,
  updated_at = now();

insert into public.templates (
  id, title, description, prompt, variables, model, default_image_path, enabled, sort_order
) values
(
  'product-ad', 'Product ad',
  'A short premium commercial shot of a product.',
  'A cinematic commercial for the {{BRAND}} {{MODEL}}: slow camera orbit around the product on a '
    || 'reflective surface, soft studio lighting, shallow depth of field, premium feel.',
  '[
    {"name": "BRAND", "label": "Brand", "description": "Brand name shown in the ad",
     "required": true, "max_length": 40, "example": "Tesla"},
    {"name": "MODEL", "label": "Model", "description": "Product or model name",
     "required": true, "max_length": 40, "example": "Model S"}
  ]'::jsonb,
  'minimax-video-01', null, true, 10
),
(
  'travel-teaser', 'Travel teaser',
  'An aerial golden-hour shot of a destination.',
  'A sweeping aerial drone shot over {{PLACE}} at golden hour, {{MOOD}} atmosphere, cinematic '
    || 'color grading, gentle forward motion.',
  '[
    {"name": "PLACE", "label": "Place", "description": "City, landscape or landmark",
     "required": true, "max_length": 60, "example": "the Amalfi coast"},
    {"name": "MOOD", "label": "Mood", "description": "One or two words for the atmosphere",
     "required": false, "max_length": 30, "default": "serene", "example": "dreamy"}
  ]'::jsonb,
  'kling-1.6-pro', null, true, 20
),
(
  'product-photo-motion', 'Bring a product photo to life',
  'Animates your product photo (upload a start image).',
  'The {{PRODUCT}} in the photo comes to life: gentle camera push-in, subtle natural motion, '
    || 'clean background, commercial look.',
  '[
    {"name": "PRODUCT", "label": "Product", "description": "What the photo shows",
     "required": true, "max_length": 60, "example": "sneaker"}
  ]'::jsonb,
  'minimax-video-01-i2v', null, true, 30
)
on conflict (id) do update set
  title = excluded.title,
  description = excluded.description,
  prompt = excluded.prompt,
  variables = excluded.variables,
  model = excluded.model,
  default_image_path = excluded.default_image_path,
  enabled = excluded.enabled,
  sort_order = excluded.sort_order,
  updated_at = now();
