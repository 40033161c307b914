/**
 * Prompt templates (table `public.templates`): a prompt with `{{VARIABLE}}` placeholders, the
 * specs of its variables, the model it runs on and an optional default start image. The catalog
 * is cached per function instance for a minute, like the model catalog; `renderTemplate` turns a
 * template and the caller's variables into a prompt, or a 400 naming the bad variable.
 */
import type { Sql } from "./db.ts";
import { AppError } from "./errors.ts";

/** One variable of a template, as stored in `templates.variables`. */
export interface TemplateVariable {
  name: string;
  label?: string;
  description?: string;
  required: boolean;
  max_length: number;
  default?: string;
  example?: string;
}

export interface Template {
  id: string;
  title: string;
  description: string;
  prompt: string;
  variables: TemplateVariable[];
  model: string;
  default_image_path: string | null;
}

export interface TemplateCatalog {
  get(id: string): Promise<Template | null>;
  list(): Promise<Template[]>;
}

/** The enabled templates read from Postgres, cached for `ttlMs`. */
export function createTemplateCatalog(sql: Sql, ttlMs = 60_000, nowMs = Date.now): TemplateCatalog {
  let cache: { at: number; templates: Promise<Template[]> } | undefined;
  const list = () => {
    if (!cache || nowMs() - cache.at > ttlMs) {
      const templates = sql<Template[]>`
        select id, title, description, prompt, variables, model, default_image_path
        from public.templates where enabled order by sort_order, id`.then((r) => [...r]);
      cache = { at: nowMs(), templates };
      templates.catch(() => (cache = undefined));
    }
    return cache.templates;
  };
  return {
    list,
    async get(id) {
      return (await list()).find((t) => t.id === id) ?? null;
    },
  };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
// Control characters (newlines included) would let a value reshape the prompt around it.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The prompt of `template` with its variables filled in. Missing required, unknown, oversized
 * or multi-line variables are a 400 `invalid_input` naming the variable (`variables.BRAND: …`).
 * Values are inserted in one pass, so a value containing `{{…}}` stays literal text.
 */
export function renderTemplate(
  template: Template,
  values: Record<string, string> | undefined,
): string {
  const given = values ?? {};
  const specs = new Map(template.variables.map((v) => [v.name, v]));
  for (const name of Object.keys(given)) {
    if (!specs.has(name)) {
      const known = template.variables.map((v) => v.name).join(", ") || "no variables";
      throw new AppError(
        "invalid_input",
        `variables.${name}: unknown variable (template ${template.id} takes ${known})`,
      );
    }
  }
  const filled = new Map<string, string>();
  for (const spec of template.variables) {
    const raw = given[spec.name];
    let value = typeof raw === "string" ? raw.trim() : "";
    if (value === "") {
      if (spec.required && !spec.default) {
        throw new AppError("invalid_input", `variables.${spec.name}: required`);
      }
      value = spec.default ?? "";
    }
    if (CONTROL.test(value)) {
      throw new AppError("invalid_input", `variables.${spec.name}: must be one line of text`);
    }
    if (value.length > spec.max_length) {
      throw new AppError(
        "invalid_input",
        `variables.${spec.name}: at most ${spec.max_length} characters`,
      );
    }
    filled.set(spec.name, value);
  }
  return template.prompt
    .replace(PLACEHOLDER, (_m, name: string) => filled.get(name) ?? "")
    // An empty optional variable must not leave a double space or a space before punctuation.
    .replace(/[ \t]{2,}/g, " ")
    .replace(/ +([,.;:!?])/g, "$1")
    .trim();
}

/** What clients see of a template (the picker and its variable form). */
export function publicTemplate(t: Template, extra: Record<string, unknown> = {}) {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    model: t.model,
    variables: t.variables.map((v) => ({
      name: v.name,
      label: v.label ?? v.name,
      description: v.description ?? "",
      required: v.required,
      max_length: v.max_length,
      default: v.default ?? null,
      example: v.example ?? null,
    })),
    has_default_image: t.default_image_path !== null,
    ...extra,
  };
}
