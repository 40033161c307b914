/**
 * The README's deploy steps (and the commands in docs/) work as written with the pinned CLI:
 * every `npx supabase@…` line names the pinned version, a subcommand that exists, and only flags
 * its `--help` lists; commands that target the local database unless told otherwise carry
 * `--remote`; and the `db push` line runs (`--dry-run`) against a real stack's database.
 */
import assert from "node:assert/strict";
import { SUPABASE_CLI, supabaseCli } from "../../dev/supabase_cli.ts";
import { startTestStack } from "../harness/stack.ts";
import { codeLines, readme, ROOT, section, shellWords } from "./readme.ts";

interface CliLine {
  source: string;
  line: string;
  /** The words after `npx [-y] supabase@<version>`. */
  args: string[];
}

function cliLines(markdown: string, source: string): CliLine[] {
  return codeLines(markdown)
    .map((l) => l.trim())
    .filter((l) => /^npx\s+(-y\s+)?supabase@/.test(l))
    .map((line) => {
      const words = shellWords(line.replace(/\s+#.*$/, ""));
      const at = words.findIndex((w) => w.startsWith("supabase@"));
      assert.equal(words[at], SUPABASE_CLI, `${source}: pinned CLI in: ${line}`);
      return { source, line, args: words.slice(at + 1) };
    });
}

async function allLines(): Promise<CliLine[]> {
  const lines = cliLines(section(await readme(), "Deploy to Supabase"), "README deploy");
  for await (const entry of Deno.readDir(`${ROOT}docs`)) {
    if (!entry.name.endsWith(".md")) continue;
    const path = `docs/${entry.name}`;
    lines.push(...cliLines(await Deno.readTextFile(`${ROOT}${path}`), path));
  }
  return lines;
}

const helpCache = new Map<string, Promise<string>>();
function helpOf(command: string[]): Promise<string> {
  const key = command.join(" ");
  let help = helpCache.get(key);
  if (!help) {
    help = supabaseCli([...command, "--help"]).then((r) => r.stdout + r.stderr);
    helpCache.set(key, help);
  }
  return help;
}

/** The longest leading run of words that names a command (groups list SUBCOMMANDS). */
async function commandOf(args: string[]): Promise<{ command: string[]; help: string }> {
  const command = [args[0]!];
  let help = await helpOf(command);
  for (let i = 1; i < args.length && /\nSUBCOMMANDS\b/.test(help); i++) {
    const next = args[i]!;
    if (next.startsWith("-")) break;
    command.push(next);
    help = await helpOf(command);
  }
  return { command, help };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("the README deploy section has the steps it promises", async () => {
  const lines = (await allLines()).filter((l) => l.source === "README deploy");
  const starts = lines.map((l) => l.args.slice(0, 2).join(" "));
  for (
    const step of ["login", "link", "db push", "secrets set", "functions deploy", "db query"]
  ) {
    assert.ok(starts.some((s) => s.startsWith(step)), `a "${step}" step`);
  }
  const deploy = lines.find((l) => l.args[0] === "functions" && l.args[1] === "deploy")!;
  assert.ok(deploy.args.includes("--use-api"), "functions deploy works without Docker");
});

Deno.test("every README CLI line names a real subcommand and only flags its --help lists", async () => {
  const lines = await allLines();
  assert.ok(lines.length >= 8, `found ${lines.length} CLI lines`);
  for (const { source, line, args } of lines) {
    const { command, help } = await commandOf(args);
    assert.match(
      help,
      new RegExp(`USAGE\\s+supabase ${escape(command.join(" "))}( |$)`, "m"),
      `${source}: "${command.join(" ")}" is a command of ${SUPABASE_CLI}: ${line}`,
    );
    for (const flag of args.filter((a) => a.startsWith("-"))) {
      const name = flag.split("=")[0]!;
      assert.match(
        help,
        new RegExp(`(^|[\\s,])${escape(name)}(?=[\\s=\\[,]|$)`, "m"),
        `${source}: ${SUPABASE_CLI} ${command.join(" ")} has no flag ${name}: ${line}`,
      );
    }
    if (/TARGET\s+Local by default/.test(help)) {
      assert.ok(
        args.some((a) => a === "--remote" || a.startsWith("--remote=")) ||
          source !== "README deploy",
        `${source}: "${command.join(" ")}" targets the local database without --remote: ${line}`,
      );
    }
  }
});

Deno.test("the README's db push line runs against a real database (--dry-run)", async () => {
  const push = (await allLines()).find((l) =>
    l.source === "README deploy" && l.args[0] === "db" && l.args[1] === "push"
  );
  assert.ok(push, "a db push line");
  const stack = await startTestStack();
  try {
    const url = `${stack.info.dbUrl}?sslmode=disable`;
    const args = push.args.map((a) => a === "--remote" ? `--remote=${url}` : a);
    assert.ok(args.includes(`--remote=${url}`), "the line pushes to --remote");
    const out = await supabaseCli([...args, "--dry-run"]);
    const text = out.stdout + out.stderr;
    assert.match(text, /up to date|Would push|DRY RUN/i, text);
  } finally {
    await stack.stop();
  }
});
