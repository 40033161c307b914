/**
 * The repository documents itself: no tracked file points at documents that live only on the
 * developers' machines (the shared design notes next to the checkout), and every relative link
 * in a Markdown file resolves to a file of the repository.
 */
import assert from "node:assert/strict";
import { ROOT } from "./readme.ts";

async function trackedFiles(): Promise<string[]> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0, "git ls-files");
  return new TextDecoder().decode(out.stdout).split("\0").filter(Boolean);
}

async function textOf(path: string): Promise<string | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${ROOT}${path}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null; // deleted, not yet committed
    throw e;
  }
  if (bytes.includes(0)) return null; // binary
  return new TextDecoder().decode(bytes);
}

// Built from parts so this file does not match itself.
const OUTSIDE = [
  [".." + "/shared", "a path out of the repository"],
  ["/work" + "/", "an absolute path of the development machines"],
] as const;

Deno.test("no file of the repository points outside it", async () => {
  const files = await trackedFiles();
  const names = new Set(files.map((f) => f.split("/").at(-1)));
  const offenders: string[] = [];
  for (const path of files) {
    const text = await textOf(path);
    if (text === null) continue;
    for (const [needle, what] of OUTSIDE) {
      if (text.includes(needle)) offenders.push(`${path}: ${what} (${needle})`);
    }
    // The shared design notes' names, unless the repository has such a file itself.
    for (const m of text.matchAll(/\b(ARCHITECTURE|REFERENCE|STYLE)\.md\b/g)) {
      if (!names.has(m[0])) {
        offenders.push(`${path}: names ${m[0]}, which is not in the repository`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("every relative link in the Markdown files resolves to a file of the repository", async () => {
  const files = await trackedFiles();
  const tracked = new Set(files);
  const broken: string[] = [];
  for (const path of files.filter((f) => f.endsWith(".md"))) {
    const text = await textOf(path);
    if (text === null) continue;
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split("#")[0]!;
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const resolved = new URL(target, `file:///${dir}`).pathname.slice(1).replace(/\/$/, "");
      const isDir = files.some((f) => f.startsWith(`${resolved}/`));
      if (!tracked.has(resolved) && !isDir) broken.push(`${path}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});
