/**
 * Input validation the way fal's model runners report it: a list of FastAPI/pydantic-style
 * `{loc, msg, type}` entries that the result endpoint answers with HTTP 422 (and the webhook
 * carries as `status: "ERROR"` with `payload.detail`). Like fal, this runs when the request
 * starts on a runner, not at submit.
 */
import type { EndpointKind } from "./config.ts";

/** One validation problem, as in fal's `detail` arrays. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The problems with `input` for an endpoint of this kind (empty when it is acceptable). */
export function validateInput(
  endpointId: string,
  kind: EndpointKind,
  input: unknown,
): ValidationIssue[] {
  if (!isObject(input)) {
    return [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }];
  }
  switch (kind) {
    case "video": {
      const issues = requireText(input, "prompt");
      if (endpointId.toLowerCase().includes("image-to-video")) {
        issues.push(...requireText(input, "image_url"));
      }
      return issues;
    }
    case "image":
      return requireText(input, "prompt");
    case "audio": {
      if (nonEmptyString(input.text) || nonEmptyString(input.prompt)) return [];
      // ElevenLabs-style endpoints call the field `text`; Kokoro and most others `prompt`.
      const field = /elevenlabs|minimax\/speech|playai/.test(endpointId.toLowerCase())
        ? "text"
        : "prompt";
      return requireText(input, field);
    }
    case "compose":
      return validateTracks(input.tracks);
  }
}

function validateTracks(tracks: unknown): ValidationIssue[] {
  if (tracks === undefined) return [missing(["body", "tracks"])];
  if (!Array.isArray(tracks)) {
    return [{ loc: ["body", "tracks"], msg: "Input should be a valid list", type: "list_type" }];
  }
  if (tracks.length === 0) {
    return [{
      loc: ["body", "tracks"],
      msg: "List should have at least 1 item after validation, not 0",
      type: "too_short",
    }];
  }
  const issues: ValidationIssue[] = [];
  tracks.forEach((track, t) => {
    const at = ["body", "tracks", t];
    if (!isObject(track)) {
      issues.push({ loc: at, msg: "Input should be a valid dictionary", type: "dict_type" });
      return;
    }
    for (const field of ["id", "type"]) {
      if (typeof track[field] !== "string") {
        issues.push(missingOrType([...at, field], track[field]));
      }
    }
    if (typeof track.type === "string" && !["video", "audio", "image"].includes(track.type)) {
      issues.push({
        loc: [...at, "type"],
        msg: "Input should be 'video', 'audio' or 'image'",
        type: "literal_error",
      });
    }
    if (!Array.isArray(track.keyframes)) {
      issues.push(missingOrType([...at, "keyframes"], track.keyframes, "list"));
      return;
    }
    track.keyframes.forEach((kf: unknown, k: number) => {
      const kat = [...at, "keyframes", k];
      if (!isObject(kf)) {
        issues.push({ loc: kat, msg: "Input should be a valid dictionary", type: "dict_type" });
        return;
      }
      if (!nonEmptyString(kf.url)) issues.push(missingOrType([...kat, "url"], kf.url));
      for (const field of ["timestamp", "duration"]) {
        const v = kf[field];
        if (typeof v !== "number" || !Number.isFinite(v)) {
          issues.push(missingOrType([...kat, field], v, "number"));
        } else if (v < 0 || (field === "duration" && v === 0)) {
          issues.push({
            loc: [...kat, field],
            msg: `Input should be greater than ${field === "duration" ? "0" : "or equal to 0"}`,
            type: field === "duration" ? "greater_than" : "greater_than_equal",
          });
        }
      }
    });
  });
  return issues;
}

function requireText(input: Record<string, unknown>, field: string): ValidationIssue[] {
  const v = input[field];
  if (v === undefined || v === null) return [missing(["body", field])];
  if (typeof v !== "string") {
    return [{ loc: ["body", field], msg: "Input should be a valid string", type: "string_type" }];
  }
  if (v.trim() === "") {
    return [{
      loc: ["body", field],
      msg: "String should have at least 1 character",
      type: "string_too_short",
    }];
  }
  return [];
}

function missing(loc: (string | number)[]): ValidationIssue {
  return { loc, msg: "Field required", type: "missing" };
}

function missingOrType(
  loc: (string | number)[],
  value: unknown,
  expected: "string" | "number" | "list" = "string",
): ValidationIssue {
  if (value === undefined) return missing(loc);
  const msg = {
    string: "Input should be a valid string",
    number: "Input should be a valid number",
    list: "Input should be a valid list",
  }[expected];
  return {
    loc,
    msg,
    type: `${expected === "list" ? "list" : expected === "number" ? "float" : "string"}_type`,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === "string" && v.trim() !== "";
}
