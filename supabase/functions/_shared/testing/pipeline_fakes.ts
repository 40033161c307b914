/**
 * Fakes for the pipeline features' unit tests: the story models (image, TTS, compose), an
 * image-to-video model, a template catalog, a pipeline store that records what it was asked to
 * create, and an in-memory Storage whose signed URLs a fake fetch serves (with byte ranges).
 */
import { AppError } from "../errors.ts";
import type { PublicJob } from "../jobs.ts";
import { MediaError, type StorageApi } from "../media_copy.ts";
import type { Model } from "../models.ts";
import type { CreateParentArgs, ParentWithChildren, Pipelines } from "../pipelines.ts";
import type { Template, TemplateCatalog } from "../templates.ts";
import { MINIMAX } from "./fakes.ts";

export const I2V: Model = {
  ...MINIMAX,
  id: "minimax-i2v",
  endpoint_id: "fal-ai/minimax/video-01/image-to-video",
  title: "MiniMax i2v",
  input_schema: {
    type: "object",
    required: ["prompt", "image_url"],
    properties: { prompt: { type: "string", maxLength: 2000 }, image_url: { type: "string" } },
  },
  accepts_image: true,
};

const base = { ...MINIMAX, durations: null, default_duration: null, aspect_ratios: null };

export const FLUX: Model = {
  ...base,
  id: "flux-schnell",
  endpoint_id: "fal-ai/flux/schnell",
  kind: "image",
  title: "FLUX",
  input_schema: {
    type: "object",
    properties: { prompt: { type: "string", maxLength: 2000 }, image_size: {} },
  },
  cost_base: 1,
  expected_seconds: 5,
};

export const KOKORO: Model = {
  ...base,
  id: "kokoro-tts",
  endpoint_id: "fal-ai/kokoro/american-english",
  kind: "audio",
  title: "Kokoro",
  input_schema: {
    type: "object",
    properties: {
      prompt: { type: "string", maxLength: 5000 },
      voice: { type: "string", enum: ["af_heart", "am_adam"] },
    },
  },
  cost_base: 1,
  expected_seconds: 10,
};

export const COMPOSE: Model = {
  ...base,
  id: "ffmpeg-compose",
  endpoint_id: "fal-ai/ffmpeg-api/compose",
  kind: "compose",
  title: "Compose",
  input_schema: { type: "object", properties: { tracks: {} } },
  cost_base: 2,
  expected_seconds: 30,
};

export const PRODUCT_AD: Template = {
  id: "product-ad",
  title: "Product ad",
  description: "",
  prompt: "A commercial for the {{BRAND}} {{MODEL}}, {{MOOD}} mood.",
  variables: [
    { name: "BRAND", required: true, max_length: 10 },
    { name: "MODEL", required: true, max_length: 20 },
    { name: "MOOD", required: false, max_length: 20, default: "calm" },
  ],
  model: MINIMAX.id,
  default_image_path: null,
};

export const PHOTO_MOTION: Template = {
  id: "photo-motion",
  title: "Photo motion",
  description: "",
  prompt: "The {{PRODUCT}} comes to life.",
  variables: [{ name: "PRODUCT", required: true, max_length: 30 }],
  model: I2V.id,
  default_image_path: null,
};

export function fakeTemplates(templates: Template[] = [PRODUCT_AD, PHOTO_MOTION]): TemplateCatalog {
  return {
    list: () => Promise.resolve(templates),
    get: (id) => Promise.resolve(templates.find((t) => t.id === id) ?? null),
  };
}

/** A pipeline store answering with a parent and one public job per child. */
export function fakePipelines(opts: { replayed?: boolean } = {}) {
  const created: CreateParentArgs[] = [];
  const retried: { parentId: string }[] = [];
  const answer = (kind: string, n: number): ParentWithChildren => ({
    parent: { id: "p0000000-0000-4000-8000-000000000000", status: "queued", video_url: null, kind },
    jobs: Array.from(
      { length: n },
      (_, i) => ({ id: `c${i}`, status: "queued", video_url: null }) as PublicJob,
    ),
    replayed: opts.replayed ?? false,
  });
  const pipelines: Pipelines = {
    create(a) {
      created.push(a);
      return Promise.resolve(answer(a.kind, a.children.length));
    },
    retry(a) {
      retried.push(a);
      return Promise.resolve(answer("story", 3));
    },
    children: () => Promise.resolve([]),
  };
  return { pipelines, created, retried };
}

/** Checks nothing but the folder, like the real checker's first step. */
export const fakeCheckImage = (user: { id: string }, path: string) =>
  path.startsWith(`${user.id}/`)
    ? Promise.resolve(`storage://inputs/${path}`)
    : Promise.reject(new AppError("invalid_input", "image_path: must be in your own folder"));

/** In-memory Storage: `sign` answers `https://storage.test/<bucket>/<path>` for stored files. */
export function memoryStorage(files: Record<string, Uint8Array<ArrayBuffer>> = {}) {
  const signed: { bucket: string; paths: string[]; expiresIn: number }[] = [];
  const storage: StorageApi = {
    upload: async (bucket, path, body) => {
      files[`${bucket}/${path}`] = new Uint8Array(await new Response(body).arrayBuffer());
    },
    sign: (bucket, paths, expiresIn) => {
      signed.push({ bucket, paths, expiresIn });
      return Promise.resolve(
        paths.map((p) => (files[`${bucket}/${p}`] ? `https://storage.test/${bucket}/${p}` : null)),
      );
    },
    remove: (bucket, paths) => {
      for (const p of paths) delete files[`${bucket}/${p}`];
      return Promise.resolve();
    },
    copy: (bucket, from, to) => {
      const bytes = files[`${bucket}/${from}`];
      if (!bytes) return Promise.reject(new MediaError(`no such object ${bucket}/${from}`, false));
      files[`${bucket}/${to}`] = bytes.slice();
      return Promise.resolve();
    },
  };
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const bytes = files[decodeURIComponent(url.pathname.slice(1))];
    if (!bytes) return Promise.resolve(new Response("missing", { status: 404 }));
    const range = /^bytes=(\d+)-(\d+)$/.exec(new Headers(init?.headers).get("range") ?? "");
    if (!range) return Promise.resolve(new Response(bytes));
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), bytes.length - 1);
    return Promise.resolve(
      new Response(bytes.slice(start, end + 1), {
        status: 206,
        headers: { "content-range": `bytes ${start}-${end}/${bytes.length}` },
      }),
    );
  };
  return { storage, fetch: fetch as typeof globalThis.fetch, files, signed };
}
