/**
 * Reading the README the way the docs tests need it: one `## ` section, the shell lines of its
 * code blocks, the rows of its tables (with the `###` heading each table sits under), and a
 * shell-like split of a command line.
 */

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** README.md's text. */
export function readme(): Promise<string> {
  return Deno.readTextFile(`${ROOT}README.md`);
}

/** The body of the `## <title>` section, up to the next `## ` heading. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith("## "));
  return (end < 0 ? rest : rest.slice(0, end)).join("\n");
}

/** The lines inside fenced code blocks. */
export function codeLines(markdown: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of markdown.split("\n")) {
    if (line.trimStart().startsWith("```")) inside = !inside;
    else if (inside) out.push(line);
  }
  return out;
}

/** One table row: its cells and the `###` heading above its table ("" for none). */
export interface TableRow {
  cells: string[];
  heading: string;
}

/** Every body row of every table (header and separator rows left out). */
export function tableRows(markdown: string): TableRow[] {
  const rows: TableRow[] = [];
  let heading = "";
  let sawHeader = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("### ")) heading = line.slice(4).trim();
    if (!line.trimStart().startsWith("|")) {
      sawHeader = false;
      continue;
    }
    const cells = line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (!sawHeader) {
      sawHeader = true;
      continue;
    }
    rows.push({ cells, heading });
  }
  return rows;
}

/** Splits a command line into words: whitespace-separated, "…" and '…' quoting, no expansion. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | null = null;
  let started = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = "";
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in: ${line}`);
  if (started) words.push(word);
  return words;
}
