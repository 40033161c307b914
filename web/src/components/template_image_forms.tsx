/**
 * The one-job forms beyond a plain prompt: a template picker with a form for its variables
 * (limits enforced in the inputs, server errors such as `variables.BRAND: …` shown on the field),
 * and image-to-video (pick a start image, preview it, upload it to Storage, then generate).
 */
import { type FormEvent, useEffect, useId, useState } from "react";
import { imageProblem, type SingleRequest } from "../pipeline_api.ts";
import type { Catalog } from "../pipeline_types.ts";
import type { Model } from "../types.ts";
import { FieldMessage } from "./pipeline_forms.tsx";

export interface SingleFormProps {
  busy: boolean;
  errors: Record<string, string>;
  /** `image` is uploaded first when given; its path becomes `image_path`. */
  submit(body: SingleRequest, image?: File): void;
}

/** Picks a start image and shows it; reports the file (null when cleared or invalid). */
function ImagePicker(props: {
  label: string;
  required: boolean;
  error?: string;
  onChange(file: File | null): void;
}) {
  const id = useId();
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);
  const error = problem ?? props.error;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="file"
        accept="image/png,image/jpeg,image/webp,image/gif"
        required={props.required}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-e` : undefined}
        onChange={(e) => {
          const file = e.target.files?.[0] ?? null;
          const why = file ? imageProblem(file) : null;
          setProblem(why);
          setPreview(file && !why ? URL.createObjectURL(file) : null);
          props.onChange(file && !why ? file : null);
        }}
      />
      <FieldMessage id={`${id}-e`} error={error ?? undefined} />
      {preview && <img className="image-preview" src={preview} alt="Start image preview" />}
    </div>
  );
}

/** Template picker and variable form. */
export function TemplateForm(props: SingleFormProps & { catalog: Catalog | null }) {
  const templates = props.catalog?.templates ?? [];
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [image, setImage] = useState<File | null>(null);
  const base = useId();
  const template = templates.find((t) => t.id === templateId) ?? templates[0] ?? null;
  if (!template) return <p className="muted">Loading templates…</p>;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const variables: Record<string, string> = {};
    for (const v of template.variables) {
      const value = values[`${template.id}.${v.name}`]?.trim();
      if (value) variables[v.name] = value;
    }
    props.submit({ template_id: template.id, variables }, image ?? undefined);
  };
  return (
    <form className="panel" onSubmit={onSubmit} aria-label="Template">
      <div className="field">
        <label htmlFor={`${base}-tpl`}>Template</label>
        <select
          id={`${base}-tpl`}
          value={template.id}
          onChange={(e) => setTemplateId(e.target.value)}
        >
          {templates.map((t) => (
            <option key={t.id} value={t.id}>{t.title} · {t.credits} credits</option>
          ))}
        </select>
        <p className="hint">{template.description}</p>
      </div>
      {template.variables.map((v) => {
        const key = `${template.id}.${v.name}`;
        const error = props.errors[`variables.${v.name}`];
        const id = `${base}-${v.name}`;
        return (
          <div className="field" key={key}>
            <label htmlFor={id}>{v.label}{v.required ? "" : " (optional)"}</label>
            <input
              id={id}
              value={values[key] ?? ""}
              required={v.required}
              maxLength={v.max_length}
              placeholder={v.example ?? v.default ?? undefined}
              aria-invalid={error ? true : undefined}
              aria-describedby={`${id}-h${error ? ` ${id}-e` : ""}`}
              onChange={(e) => setValues((all) => ({ ...all, [key]: e.target.value }))}
            />
            <span id={`${id}-h`} className="hint">
              {v.description} (up to {v.max_length} characters)
            </span>
            <FieldMessage id={`${id}-e`} error={error} />
          </div>
        );
      })}
      {template.accepts_image && (
        <ImagePicker
          label={template.needs_image ? "Start image" : "Start image (optional)"}
          required={template.needs_image}
          error={props.errors["image_path"]}
          onChange={setImage}
        />
      )}
      <FieldMessage id={`${base}-tid`} error={props.errors["template_id"]} />
      <button type="submit" className="button button-primary" disabled={props.busy}>
        {props.busy ? "Starting…" : "Generate from template"}
      </button>
    </form>
  );
}

/** Image-to-video: a model that accepts a start image, the image and a prompt. */
export function ImageForm(props: SingleFormProps & { models: Model[] | null }) {
  const models = (props.models ?? []).filter((m) => m.accepts_image);
  const [modelId, setModelId] = useState<string | null>(null);
  const [prompt, setPrompt] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const base = useId();
  const model = models.find((m) => m.id === modelId) ?? models[0] ?? null;
  if (!model) return <p className="muted">No model takes a start image right now.</p>;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!image) return;
    props.submit({ prompt, model: model.id, image_path: "" }, image);
  };
  return (
    <form className="panel" onSubmit={onSubmit} aria-label="Image to video">
      <div className="field">
        <label htmlFor={`${base}-m`}>Model</label>
        <select id={`${base}-m`} value={model.id} onChange={(e) => setModelId(e.target.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>{m.title} · {m.credits} credits</option>
          ))}
        </select>
      </div>
      <ImagePicker
        label="Start image"
        required
        error={props.errors["image_path"]}
        onChange={setImage}
      />
      <div className="field">
        <label htmlFor={`${base}-p`}>Prompt</label>
        <textarea
          id={`${base}-p`}
          rows={3}
          required
          value={prompt}
          aria-invalid={props.errors["prompt"] ? true : undefined}
          onChange={(e) => setPrompt(e.target.value)}
        />
        <FieldMessage id={`${base}-pe`} error={props.errors["prompt"]} />
      </div>
      <button type="submit" className="button button-primary" disabled={props.busy || !image}>
        {props.busy ? "Starting…" : "Generate from image"}
      </button>
    </form>
  );
}
