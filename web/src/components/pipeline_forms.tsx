/**
 * The forms that make more than a plain prompt: a story editor (scenes: add, remove, reorder,
 * text + optional image prompt, voice) and a batch form (several prompts). Server validation
 * errors name a field (`scenes.0.text: …`) and are shown on that field.
 */
import { type FormEvent, useId, useState } from "react";
import { moveItem } from "../hooks/pipelines.ts";
import type { Catalog, SceneInput } from "../pipeline_types.ts";
import type { ParentRequest } from "../pipeline_api.ts";

/** A field's error, if the last answer named it. */
export function FieldMessage(props: { id: string; error?: string }) {
  if (!props.error) return null;
  return <span id={props.id} className="inline-error" role="alert">{props.error}</span>;
}

export interface ParentFormProps {
  catalog: Catalog | null;
  busy: boolean;
  /** Errors by field path from the last answer. */
  errors: Record<string, string>;
  submit(body: ParentRequest): void;
}

/** The story editor. */
export function StoryForm(props: ParentFormProps) {
  const [title, setTitle] = useState("");
  const [voice, setVoice] = useState("");
  const [scenes, setScenes] = useState<SceneInput[]>([{ text: "", image_prompt: "" }]);
  const base = useId();
  const story = props.catalog?.story ?? null;
  const max = story?.max_scenes ?? 20;
  const cost = story ? story.credits_base + story.credits_per_scene * scenes.length : null;
  const set = (i: number, patch: Partial<SceneInput>) =>
    setScenes((list) => list.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    props.submit({
      kind: "story",
      title: title.trim() || undefined,
      voice: voice || undefined,
      scenes: scenes.map((s) => ({
        text: s.text,
        ...(s.image_prompt?.trim() ? { image_prompt: s.image_prompt.trim() } : {}),
      })),
    });
  };
  return (
    <form className="panel" onSubmit={onSubmit} aria-label="Story">
      <div className="field">
        <label htmlFor={`${base}-title`}>Story title</label>
        <input id={`${base}-title`} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      {story && story.voices.length > 0 && (
        <div className="field">
          <label htmlFor={`${base}-voice`}>Voice</label>
          <select id={`${base}-voice`} value={voice} onChange={(e) => setVoice(e.target.value)}>
            <option value="">Default voice</option>
            {story.voices.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </div>
      )}
      <ol className="scene-list">
        {scenes.map((scene, i) => {
          const textError = props.errors[`scenes.${i}.text`];
          const promptError = props.errors[`scenes.${i}.image_prompt`];
          return (
            <li key={i} className="scene" data-testid="scene-editor">
              <fieldset>
                <legend>Scene {i + 1}</legend>
                <div className="field">
                  <label htmlFor={`${base}-t${i}`}>Scene {i + 1} narration</label>
                  <textarea
                    id={`${base}-t${i}`}
                    rows={2}
                    required
                    value={scene.text}
                    aria-invalid={textError ? true : undefined}
                    aria-describedby={textError ? `${base}-te${i}` : undefined}
                    onChange={(e) => set(i, { text: e.target.value })}
                  />
                  <FieldMessage id={`${base}-te${i}`} error={textError} />
                </div>
                <div className="field">
                  <label htmlFor={`${base}-p${i}`}>Scene {i + 1} image prompt (optional)</label>
                  <input
                    id={`${base}-p${i}`}
                    value={scene.image_prompt ?? ""}
                    aria-invalid={promptError ? true : undefined}
                    aria-describedby={promptError ? `${base}-pe${i}` : undefined}
                    onChange={(e) => set(i, { image_prompt: e.target.value })}
                  />
                  <FieldMessage id={`${base}-pe${i}`} error={promptError} />
                </div>
                <div className="button-row">
                  <button
                    type="button"
                    className="button button-ghost"
                    disabled={i === 0}
                    aria-label={`Move scene ${i + 1} up`}
                    onClick={() => setScenes((l) => moveItem(l, i, i - 1))}
                  >
                    ↑ Up
                  </button>
                  <button
                    type="button"
                    className="button button-ghost"
                    disabled={i === scenes.length - 1}
                    aria-label={`Move scene ${i + 1} down`}
                    onClick={() => setScenes((l) => moveItem(l, i, i + 1))}
                  >
                    ↓ Down
                  </button>
                  <button
                    type="button"
                    className="button button-ghost"
                    disabled={scenes.length === 1}
                    aria-label={`Remove scene ${i + 1}`}
                    onClick={() => setScenes((l) => l.filter((_, j) => j !== i))}
                  >
                    Remove
                  </button>
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary"
          disabled={scenes.length >= max}
          onClick={() => setScenes((l) => [...l, { text: "", image_prompt: "" }])}
        >
          Add scene
        </button>
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy ? "Starting…" : `Create story${cost !== null ? ` (${cost} credits)` : ""}`}
        </button>
      </div>
      <FieldMessage id={`${base}-scenes`} error={props.errors["scenes"]} />
    </form>
  );
}

/** The batch form: one prompt per line of the list. */
export function BatchForm(props: ParentFormProps & { modelId: string | null }) {
  const [prompts, setPrompts] = useState<string[]>(["", ""]);
  const base = useId();
  const max = props.catalog?.batch.max_items ?? 10;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    props.submit({
      items: prompts.map((prompt) => ({
        prompt,
        ...(props.modelId ? { model: props.modelId } : {}),
      })),
    });
  };
  return (
    <form className="panel" onSubmit={onSubmit} aria-label="Batch">
      <ol className="scene-list">
        {prompts.map((p, i) => {
          const error = props.errors[`items.${i}.prompt`] ?? props.errors[`items.${i}`];
          return (
            <li key={i} className="field">
              <label htmlFor={`${base}-${i}`}>Prompt {i + 1}</label>
              <textarea
                id={`${base}-${i}`}
                rows={2}
                required
                value={p}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? `${base}-e${i}` : undefined}
                onChange={(e) => setPrompts((l) => l.map((x, j) => (j === i ? e.target.value : x)))}
              />
              <FieldMessage id={`${base}-e${i}`} error={error} />
              {prompts.length > 1 && (
                <button
                  type="button"
                  className="button button-ghost"
                  aria-label={`Remove prompt ${i + 1}`}
                  onClick={() => setPrompts((l) => l.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              )}
            </li>
          );
        })}
      </ol>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary"
          disabled={prompts.length >= max}
          onClick={() => setPrompts((l) => [...l, ""])}
        >
          Add prompt
        </button>
        <button type="submit" className="button button-primary" disabled={props.busy}>
          {props.busy ? "Starting…" : `Generate ${prompts.length} videos`}
        </button>
      </div>
      <FieldMessage id={`${base}-items`} error={props.errors["items"]} />
    </form>
  );
}
