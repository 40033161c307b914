/**
 * Runs ffmpeg/ffprobe for the simulator. Every child gets the caller's AbortSignal so stopping the
 * simulator kills work in flight, and failures carry ffmpeg's own error output.
 */

/** Runs `ffmpeg` quietly with `args`; rejects with its stderr when it fails. */
export async function ffmpeg(args: string[], signal?: AbortSignal): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal,
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`ffmpeg failed (${out.code ?? out.signal}): ${err.slice(-2000)}`);
  }
}

/** Media facts ffprobe reports for a file. */
export interface ProbeResult {
  durationSeconds: number;
  formatName: string;
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
}

/** Runs ffprobe on a file and returns its duration and streams. */
export async function ffprobe(path: string, signal?: AbortSignal): Promise<ProbeResult> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  if (!out.success) {
    throw new Error(`ffprobe failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    format?: { duration?: string; format_name?: string };
    streams?: ProbeResult["streams"];
  };
  return {
    durationSeconds: Number(json.format?.duration ?? NaN),
    formatName: json.format?.format_name ?? "",
    streams: json.streams ?? [],
  };
}
