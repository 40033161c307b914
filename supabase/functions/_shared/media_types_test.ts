import assert from "node:assert/strict";
import { allowedStoredType, sniffMedia } from "./media_types.ts";

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((p) => typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p),
  );
const ftyp = (brand: string, ...compatible: string[]) =>
  bytes([0, 0, 0, 16 + 4 * compatible.length], "ftyp", brand, [0, 0, 0, 0], ...compatible);

const SAMPLES = {
  mp4: ftyp("isom", "isom", "avc1"),
  m4a: ftyp("M4A ", "M4A ", "mp42"),
  mov: ftyp("qt  ", "qt  "),
  webm: bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0x42, 0x82, 0x84], "webm"),
  mkv: bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88], "matroska"),
  png: bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  jpeg: bytes([0xff, 0xd8, 0xff, 0xe0]),
  webp: bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "),
  gif: bytes("GIF89a"),
  wav: bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "),
  mp3: bytes([0xff, 0xfb, 0x90, 0x64]),
  id3: bytes("ID3", [4, 0, 0, 0, 0, 0, 0]),
  html: bytes("<!doctype html><html>"),
  svg: bytes("<svg xmlns='http://www.w3.org/2000/svg'>"),
  aac: bytes([0xff, 0xf1, 0x50, 0x80]),
};

Deno.test("formats are recognised by their first bytes", () => {
  const seen = Object.fromEntries(
    Object.entries(SAMPLES).map(([name, head]) => [name, sniffMedia(head)?.format ?? null]),
  );
  assert.deepEqual(seen, {
    mp4: "mp4",
    m4a: "m4a",
    mov: null,
    webm: "webm",
    mkv: null,
    png: "png",
    jpeg: "jpeg",
    webp: "webp",
    gif: null,
    wav: "wav",
    mp3: "mp3",
    id3: "mp3",
    html: null,
    svg: null,
    aac: null,
  });
});

Deno.test("each job kind stores only its own formats, under one extension and type each", () => {
  const stored = (kind: string, name: keyof typeof SAMPLES) => {
    const t = allowedStoredType(kind, SAMPLES[name]);
    return t ? `${t.ext} ${t.contentType}` : null;
  };
  assert.equal(stored("video", "mp4"), "mp4 video/mp4");
  assert.equal(stored("video", "webm"), "webm video/webm");
  assert.equal(stored("compose", "mp4"), "mp4 video/mp4");
  assert.equal(stored("image", "jpeg"), "jpg image/jpeg");
  assert.equal(stored("image", "webp"), "webp image/webp");
  assert.equal(stored("audio", "wav"), "wav audio/wav");
  assert.equal(stored("audio", "mp3"), "mp3 audio/mpeg");
  assert.equal(stored("audio", "m4a"), "m4a audio/mp4");
  for (
    const [kind, name] of [["video", "png"], ["image", "mp4"], ["audio", "mp4"], [
      "video",
      "html",
    ]] as const
  ) {
    assert.equal(stored(kind, name), null, `${kind} ${name}`);
  }
  assert.equal(stored("batch", "mp4"), null, "a kind without media stores nothing");
});
